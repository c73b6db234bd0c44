# Outbox handlers of the trading app live with their subdomain; core autodiscovers this module.
from trading.servicing import handlers  # noqa: F401
