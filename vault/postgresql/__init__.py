"""The PostgreSQL engine of the storage seam (issue 17): its connection (:mod:`.database`) and
its migration runner (:mod:`.migrations`). Not yet selectable by a setting: only the rates store
has a PostgreSQL history and repository so far, and nothing outside the tests opens one."""
