"""The ICS calendar kind: busy time from ICS URLs and files, and the subscribable feed liftrun
writes.
"""
