"""Compact English date formats for an operations console (24-hour clock, as operators log times)."""

DATE_FORMAT = "M j, Y"
DATETIME_FORMAT = "M j, Y, H:i:s"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
