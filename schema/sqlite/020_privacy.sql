-- Schema 20: reserved; filled in by its module.
SELECT 1;
