"""Customer value: the ``customers`` table, RFM classes and a churn-warning model."""

from kpilab.customers.churn import ChurnFitResult, fit_churn
from kpilab.customers.rfm import RFMResult, rfm
from kpilab.customers.table import CUSTOMERS, read_customers, validate_customers

__all__ = ["CUSTOMERS", "read_customers", "validate_customers", "rfm", "RFMResult", "fit_churn", "ChurnFitResult"]
