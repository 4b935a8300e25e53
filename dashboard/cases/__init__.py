"""案件办理: take in dispute cases, take them through mediation to 办结, and see what is due (data.cases)."""
