"""Exchange trading calendars (sessions, opens, closes), from exchange-calendars."""
