-- Schema 18: reserved; filled in by its module.
SELECT 1;
