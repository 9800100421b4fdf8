// Module TMTRedis; see the files beside this one.
