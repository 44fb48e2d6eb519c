"""The CalDAV calendar kind: a Training calendar on a CalDAV server and busy time from its other
calendars.
"""
