// Module TMTModels; see the files beside this one.
