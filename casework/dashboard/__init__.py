"""The dashboard (``/dashboard``): every case user's own work and, for the scope they see, the
picture across agencies and provinces (``figures``), shown as tables with charts (``page``) and
exported as XLSX (``workbook``)."""
