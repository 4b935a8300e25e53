"""The leaders' overview: briefing figures of a scope, its alerts and documents, and the big screen."""
