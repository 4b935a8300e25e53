"""Pure domain and spatial logic: vocabulary, settings, scope, CRS, roll-ups. Imports nothing of ours."""
