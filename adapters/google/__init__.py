"""The Google calendar kind: a Training calendar in Google Calendar, busy time via freebusy, and
the OAuth sign-in.
"""
