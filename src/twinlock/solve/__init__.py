"""The conda solver behind one adapter (py-rattler), and the channels it reads
(the bundled snapshot, mirror directories).
"""
