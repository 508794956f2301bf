"""Why an environment does not solve: minimal conflicting sets, alignment clashes,
placement and relaxation hints, and their renderings.
"""
