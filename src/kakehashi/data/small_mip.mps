* A small mixed-integer program for kakehashi's MPS reader tests:
* minimise x + 2 y - z  with x integer in [0,4], y continuous in [-1,1], z binary,
* x + y <= 4,  x >= 1,  z - y = 0.5 (so y = -0.5 or 0.5),  2 <= z + x <= 6 (ranged).
NAME          SMALLMIP
ROWS
 N  COST
 L  LIM1
 G  LIM2
 E  MYEQN
 L  R4
COLUMNS
    MARKER                 'MARKER'                 'INTORG'
    X         COST         1.0   LIM1         1.0
    X         LIM2         1.0   R4           1.0
    MARKER                 'MARKER'                 'INTEND'
    Y         COST         2.0   LIM1         1.0
    Y         MYEQN       -1.0
    Z         COST        -1.0   MYEQN        1.0
    Z         R4           1.0
RHS
    RHS       LIM1         4.0   LIM2         1.0
    RHS       MYEQN        0.5   R4           6.0
RANGES
    RNG       R4           4.0
BOUNDS
 UP BND       X            4.0
 LO BND       Y           -1.0
 UP BND       Y            1.0
 BV BND       Z
ENDATA
