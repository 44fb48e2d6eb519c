"""The iCalendar format: reading busy time from any iCalendar text, tolerantly and within bounds,
and rendering sessions as VEVENTs (shared by the ICS, vdir and CalDAV kinds).
"""
