"""The athlete's page: the plan seen as pictures, and the actions a runner takes from a phone
(done, skipped, sore, move, not doing it, pause), served by ``liftrun serve`` beside the feed.
"""
