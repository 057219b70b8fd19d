"""What people read: answers in words, charts, the HTML report and the Excel workbook."""
