"""twinlock: compose, solve and lock isolated conda environments side by side.

A composition (``envs/<name>.yaml``) names environments such as ``lab``
(``/opt/lab``) and ``payload`` (``/opt/payload``); ``twinlock lock`` solves each
for each platform with py-rattler and writes conda-lock v1 and ``@EXPLICIT``
files under ``locks/<name>/``.
"""

__version__ = "0.1.0"
