-- Schema 17: reserved; filled in by its module.
SELECT 1;
