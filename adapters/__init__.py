"""Everything that talks to a calendar: ICS files and feeds, CalDAV, Google Calendar."""
