-- Schema 22: reserved (the API keys migration lands from its own branch).
SELECT 1;
