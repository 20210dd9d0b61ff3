SELECT `a` # c
, "s\"x" FROM t /* x /* y */ z */