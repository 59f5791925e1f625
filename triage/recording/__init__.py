"""Recording rules for the catalog's signals, and the fleet pass reading what they recorded."""
