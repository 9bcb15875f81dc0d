"""The local paper exchange: an Alpaca-compatible HTTP server for demos, CI and fault tests.

It is an independent product: it imports nothing else from ``alchemiser`` and not alpaca-py.

    from paper_exchange import ExchangeConfig, PaperExchange

    exchange = PaperExchange(ExchangeConfig(seed=7))
    url = exchange.start()          # http://127.0.0.1:PORT, for alpaca-py's url_override
    ...
    exchange.stop()
"""

from paper_exchange.config import AccountSeed, AssetSpec, ExchangeConfig
from paper_exchange.engine import PaperEngine
from paper_exchange.errors import ConfigError, ExchangeRejectionError
from paper_exchange.server import PaperExchange, wall_clock

__all__ = [
    "AccountSeed",
    "AssetSpec",
    "ConfigError",
    "ExchangeConfig",
    "ExchangeRejectionError",
    "PaperEngine",
    "PaperExchange",
    "wall_clock",
]
