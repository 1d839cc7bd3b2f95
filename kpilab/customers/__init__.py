"""Customer value: the ``customers`` table, RFM classes, value tiers with their own targets, the service ->
churn link, a churn-warning model and its accuracy as an indicator."""

from kpilab.customers.churn import ChurnFitResult, fit_churn, score_churn
from kpilab.customers.rfm import RFMResult, rfm
from kpilab.customers.service_link import ServiceLinkResult, customer_service, service_link
from kpilab.customers.table import (
    CUSTOMERS,
    CustomerIdMismatchError,
    find_customers,
    load_customers,
    match_customer_ids,
    read_customers,
    validate_customers,
)
from kpilab.customers.tiers import TierPanelResult, TierScores, assign_tiers, score_tiers, tier_panel
from kpilab.customers.warning import warning_accuracy

__all__ = ["CUSTOMERS", "read_customers", "validate_customers", "load_customers", "find_customers", "match_customer_ids", "CustomerIdMismatchError",
           "rfm", "RFMResult", "fit_churn", "score_churn", "ChurnFitResult", "customer_service", "service_link",
           "ServiceLinkResult", "assign_tiers", "tier_panel", "TierPanelResult", "score_tiers", "TierScores",
           "warning_accuracy"]
