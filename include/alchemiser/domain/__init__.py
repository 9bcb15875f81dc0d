"""Pure domain: value types, DTOs and errors. No I/O, no Airflow, no SDKs.

Import from the submodules (`alchemiser.domain.plan`, ...): this package stays empty so that
importing one error class does not load every model.
"""
