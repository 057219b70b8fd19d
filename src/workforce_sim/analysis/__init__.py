"""What runs tell: statistics and intervals, the breach rules and the headline, money by financial year, the
summary of a run, the comparison of options, the measures an answer reports and how numbers read."""
