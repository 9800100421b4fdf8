// Module TMTKafka; see the files beside this one.
