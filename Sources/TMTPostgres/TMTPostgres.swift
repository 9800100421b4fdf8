// Module TMTPostgres; see the files beside this one.
