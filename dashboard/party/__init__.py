"""The parts of the 党建与自治 page (dashboard/pages/party.py): KPI cards, map, gap lists and the scorecard."""
