-- Schema 19: reserved; filled in by its module.
SELECT 1;
