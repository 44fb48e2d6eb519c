"""The pure core of liftrun: phases, weekly sessions and their placement.

Nothing in this package reads a clock, a file or the network: "today" and every calendar fact
arrive as arguments, so the same input always gives the same plan, byte for byte.
"""
