"""The vdir calendar kind: one .ics file per event in a directory, as vdirsyncer and khal keep
them.
"""
