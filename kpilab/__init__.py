"""kpilab: design, calibrate and audit customer-service KPI systems.

Start with :func:`kpilab.framework.default_framework`,
:func:`kpilab.simulate.simulate` for demo data, and the command line
``kpilab --help``.
"""

from kpilab.errors import KpilabError

__version__ = "0.1.0"
__all__ = ["KpilabError", "__version__"]
