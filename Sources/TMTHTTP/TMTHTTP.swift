// Module TMTHTTP; see the files beside this one.
