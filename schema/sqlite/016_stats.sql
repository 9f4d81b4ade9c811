-- Schema 16: reserved; filled in by its module.
SELECT 1;
