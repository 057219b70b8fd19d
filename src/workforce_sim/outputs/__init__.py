"""What people read: answers in words, the tables the command line prints, charts, the HTML report and the Excel
workbook."""
