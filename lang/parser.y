/* parser.y - grammar of the .sqn language (bison, pure, with locations). Builds the AST in lang/ast.h. */
%define api.pure full
%define parse.error verbose
%define parse.lac full
/* One expected conflict: in a setting, `name (` is read as a call (shift), never as a name followed by a parenthesized value. */
%expect 1
%locations
%param {void *scanner}
%parse-param {LexState *st}

%code requires {
#include "lex_state.h"
}
%code provides {
int yylex(YYSTYPE *lval, YYLTYPE *lloc, void *scanner);
void yyerror(YYLTYPE *loc, void *scanner, LexState *st, const char *msg);
bool lex_dims(LexState *s, YYSTYPE *lval, const char *text, YYLTYPE loc);
bool lex_int(LexState *s, YYSTYPE *lval, const char *text, YYLTYPE loc);
const char *lex_setting_hint(LexState *st, const char *key, const Arg *values);
}
%code {
#define L(l) lex_loc(st, (l))
#define A (st->arena)
static Expr *binary(LexState *st, Operator op, Expr *a, Expr *b, SqnLoc loc);
static Expr *pipe_call(LexState *st, Expr *input, const char *callee, Arg *args, SqnLoc loc);
static Expr *comp_for(LexState *st, const char *var, Expr *iterable, SqnLoc loc);
static Expr *comprehension(LexState *st, Expr *element, Arg *clauses, SqnLoc loc);
/* Lists of declarations, statements, settings and parameters are built newest first (constant time
   per item, so a file of a million lines parses in linear time) and reversed once complete. */
#define PREPEND(list, item) ((item) ? ((item)->next = (list), (item)) : (list))
#define DEFINE_REVERSE(name, T) \
  static T *name(T *l) { T *r = NULL; while (l) { T *n = l->next; l->next = r; r = l; l = n; } return r; }
DEFINE_REVERSE(rev_decls, Decl)
DEFINE_REVERSE(rev_params, Param)
DEFINE_REVERSE(rev_stmts, Stmt)
DEFINE_REVERSE(rev_settings, Setting)
}

%union {
  int64_t ival;
  double fval;
  const char *str;
  struct { int dims[4]; int n; } dims;
  Expr *expr;
  Arg *arg;
  Stmt *stmt;
  Param *param;
  Setting *setting;
  Decl *decl;
  TypeName type;
}

%token IMPORT "import" BLOCK "block" DECODER "decoder" CANDIDATES "candidates" SPACE "space"
%token NETWORK "network" ASSERT "assert" FOR "for" IN "in" IF "if" ELSE "else" DEF "def" RETURN "return"
%token <ival> INT_LIT "integer" BOOL_LIT "true/false"
%token <fval> FLOAT_LIT "number" PERCENT "percentage"
%token <str> IDENT "name" STRING_LIT "string"
%token <dims> DIMS "dimensions (like 3x1024x2048)"
%token ARROW "->" EQ "==" NE "!=" LE "<=" GE ">=" AND "&&" OR "||"
%token NL "end of line" ERROR_TOKEN "invalid token"

%type <expr> expr postfix primary value set_expr comp_clause
%type <arg> comp_clauses
%type <arg> args arg_list arg items item_list item values
%type <stmt> stmts stmt_list stmt else_part
%type <param> params param_list param
%type <setting> settings setting_list setting
%type <decl> decl decls

%right '?' ':'
%left ARROW
%left OR
%left AND
%left EQ NE
%left '<' '>' LE GE
%left '+' '-'
%left '*' '/' '%'
%right UNARY
%left '.'

%%
program: opt_seps decls           { st->module->decls = rev_decls($2); }
       ;
decls: %empty                     { $$ = NULL; }
     | decls decl seps            { $$ = PREPEND($1, $2); }
     | decls error seps           { $$ = $1; yyerrok; }
     ;
seps: sep | seps sep ;
sep: NL | ';' ;
opt_seps: %empty | seps ;

decl: IMPORT STRING_LIT          { $$ = ARENA_NEW(A, Decl); $$->kind = DECL_IMPORT; $$->name = $2; $$->loc = L(@2); }
    | BLOCK IDENT '(' params ')' '{' stmts '}'
                                  { $$ = ARENA_NEW(A, Decl); $$->kind = DECL_BLOCK; $$->name = $2;
                                    $$->loc = L(@2); $$->params = $4; $$->body = $7; }
    | DECODER IDENT '(' params ')' '{' stmts '}'
                                  { $$ = ARENA_NEW(A, Decl); $$->kind = DECL_BLOCK; $$->is_decoder = true;
                                    $$->name = $2; $$->loc = L(@2); $$->params = $4; $$->body = $7; }
    | CANDIDATES IDENT '=' set_expr
                                  { $$ = ARENA_NEW(A, Decl); $$->kind = DECL_CANDIDATES; $$->name = $2;
                                    $$->loc = L(@2); $$->set = $4; }
    | CANDIDATES IDENT '(' params ')' '=' set_expr
                                  { $$ = ARENA_NEW(A, Decl); $$->kind = DECL_CANDIDATES; $$->name = $2;
                                    $$->loc = L(@2); $$->params = $4; $$->set = $7; }
    | DEF IDENT '(' params ')' '=' expr
                                  { $$ = ARENA_NEW(A, Decl); $$->kind = DECL_FUNCTION; $$->name = $2;
                                    $$->loc = L(@2); $$->params = $4; $$->body = ARENA_NEW(A, Stmt);
                                    $$->body->kind = STMT_RETURN; $$->body->loc = L(@7); $$->body->value = $7; }
    | DEF IDENT '(' params ')' '{' stmts '}'
                                  { $$ = ARENA_NEW(A, Decl); $$->kind = DECL_FUNCTION; $$->name = $2;
                                    $$->loc = L(@2); $$->params = $4; $$->body = $7; }
    | SPACE IDENT '{' settings '}'
                                  { $$ = ARENA_NEW(A, Decl); $$->kind = DECL_SPACE; $$->name = $2;
                                    $$->loc = L(@2); $$->settings = $4; }
    | NETWORK IDENT '=' IDENT '[' items ']'
                                  { $$ = ARENA_NEW(A, Decl); $$->kind = DECL_NETWORK; $$->name = $2;
                                    $$->loc = L(@2); $$->base = $4; $$->base_loc = L(@4);
                                    $$->items = $6; $$->nitems = ast_arg_count($6); }
    | NETWORK IDENT '=' IDENT '[' items ']' '{' settings '}'
                                  { $$ = ARENA_NEW(A, Decl); $$->kind = DECL_NETWORK; $$->name = $2;
                                    $$->loc = L(@2); $$->base = $4; $$->base_loc = L(@4);
                                    $$->items = $6; $$->nitems = ast_arg_count($6); $$->settings = $9; }
    ;

params: %empty                    { $$ = NULL; }
      | param_list                { $$ = rev_params($1); }
      | param_list ','            { $$ = rev_params($1); }
      ;
param_list: param                 { $$ = $1; }
          | param_list ',' param  { $$ = PREPEND($1, $3); }
          ;
param: IDENT                      { $$ = ARENA_NEW(A, Param); $$->name = $1; $$->loc = L(@1); }
     | IDENT ':' IDENT            { $$ = ARENA_NEW(A, Param); $$->name = $1; $$->loc = L(@1);
                                    $$->type = param_type(st, $3, @3); }
     | IDENT '=' expr             { $$ = ARENA_NEW(A, Param); $$->name = $1; $$->loc = L(@1); $$->deflt = $3; }
     | IDENT ':' IDENT '=' expr   { $$ = ARENA_NEW(A, Param); $$->name = $1; $$->loc = L(@1);
                                    $$->type = param_type(st, $3, @3); $$->deflt = $5; }
     ;

stmts: opt_seps                   { $$ = NULL; }
     | opt_seps stmt_list opt_seps { $$ = rev_stmts($2); }
     ;
stmt_list: stmt                   { $$ = $1; }
         | stmt_list error        { $$ = $1; }
         | stmt_list seps stmt    { $$ = PREPEND($1, $3); }
         ;
stmt: IDENT '=' expr              { $$ = ARENA_NEW(A, Stmt); $$->kind = STMT_LET; $$->name = $1;
                                    $$->loc = L(@1); $$->value = $3; }
    | IN '=' expr                 { $$ = ARENA_NEW(A, Stmt); $$->kind = STMT_LET; $$->name = "in";
                                    $$->loc = L(@1); $$->value = $3; }
    | FOR IDENT IN expr '{' stmts '}'
                                  { $$ = ARENA_NEW(A, Stmt); $$->kind = STMT_FOR; $$->name = $2;
                                    $$->loc = L(@2); $$->value = $4; $$->body = $6; }
    | IF expr '{' stmts '}' else_part
                                  { $$ = ARENA_NEW(A, Stmt); $$->kind = STMT_IF; $$->loc = L(@2);
                                    $$->value = $2; $$->body = $4; $$->orelse = $6; }
    | RETURN expr                 { $$ = ARENA_NEW(A, Stmt); $$->kind = STMT_RETURN; $$->loc = L(@2); $$->value = $2; }
    | ASSERT expr                 { $$ = ARENA_NEW(A, Stmt); $$->kind = STMT_ASSERT; $$->loc = L(@2); $$->value = $2; }
    | ASSERT expr ',' STRING_LIT  { $$ = ARENA_NEW(A, Stmt); $$->kind = STMT_ASSERT; $$->loc = L(@2);
                                    $$->value = $2; $$->message = $4; }
    | error                       { $$ = NULL; }
    ;

else_part: %empty                 { $$ = NULL; }
         | ELSE '{' stmts '}'     { $$ = $3; }
         | ELSE IF expr '{' stmts '}' else_part
                                  { $$ = ARENA_NEW(A, Stmt); $$->kind = STMT_IF; $$->loc = L(@3);
                                    $$->value = $3; $$->body = $5; $$->orelse = $7; }
         ;

/* A candidate set: a list of candidates (each `name = call` or a call), a comprehension, a call of a
   parameterised set, a set's name, or `a + b` of those. */
set_expr: '[' items ']'           { $$ = ast_expr(A, EX_LIST, L(@1)); $$->args = $2; $$->nargs = ast_arg_count($2); }
        | '[' expr comp_clauses ']' { $$ = comprehension(st, $2, $3, @1); }
        | IDENT                   { $$ = ast_expr(A, EX_IDENT, L(@1)); $$->str = $1; }
        | IDENT '(' args ')'      { $$ = ast_expr(A, EX_CALL, L(@1)); $$->str = $1; $$->args = $3;
                                    $$->nargs = ast_arg_count($3); }
        | set_expr '+' set_expr   { $$ = binary(st, OPR_ADD, $1, $3, @2); }
        ;
comp_clauses: FOR IDENT IN expr   { $$ = ast_arg(A, $2, comp_for(st, $2, $4, @2), L(@1)); }
            | comp_clauses comp_clause { $$ = ast_arg_append($1, ast_arg(A, $2->str, $2, $2->loc)); }
            ;
comp_clause: FOR IDENT IN expr    { $$ = comp_for(st, $2, $4, @2); }
           | IF expr              { $$ = ast_expr(A, EX_IF, L(@2)); $$->a = $2; }
           ;

settings: opt_seps                { $$ = NULL; }
        | opt_seps setting_list opt_seps { $$ = rev_settings($2); }
        ;
setting_list: setting             { $$ = $1; }
            | setting_list seps setting { $$ = PREPEND($1, $3); }
            ;
setting: DECODER values           { $$ = ARENA_NEW(A, Setting); $$->key = "decoder"; $$->loc = L(@1);
                                    $$->values = $2; $$->nvalues = ast_arg_count($2); }
       | IDENT values             { $$ = ARENA_NEW(A, Setting); $$->key = $1; $$->loc = L(@1);
                                    $$->values = $2; $$->nvalues = ast_arg_count($2); }
       | IDENT '{' settings '}'   { $$ = ARENA_NEW(A, Setting); $$->key = $1; $$->loc = L(@1);
                                    $$->body = $3; $$->has_body = true; }
       | IDENT '=' values         { diag_error(st->diag, L(@2), lex_setting_hint(st, $1, $3),
                                               "settings are written `%s VALUE`, without `=`", $1);
                                    $$ = NULL; }
       | error                    { $$ = NULL; }
       ;
values: value                     { $$ = ast_arg(A, NULL, $1, L(@1)); }
      | values value              { $$ = ast_arg_append($1, ast_arg(A, NULL, $2, L(@2))); }
      | values ARROW value        { Arg *last = $1->tail;
                                    Expr *r = ast_expr(A, EX_RANGE, last->value->loc);
                                    r->a = last->value; r->b = $3; last->value = r; $$ = $1; }
      ;
value: primary                    { $$ = $1; }
     | IDENT '(' args ')'         { $$ = ast_expr(A, EX_CALL, L(@1)); $$->str = $1; $$->args = $3;
                                    $$->nargs = ast_arg_count($3); }
     | '-' primary                { $$ = ast_expr(A, EX_UNARY, L(@1)); $$->op = OPR_NEG; $$->a = $2; }
     ;

items: %empty                     { $$ = NULL; }
     | item_list                  { $$ = $1; }
     | item_list ','              { $$ = $1; }
     ;
item_list: item                   { $$ = $1; }
         | item_list ',' item     { $$ = ast_arg_append($1, $3); }
         ;
item: expr                        { $$ = ast_arg(A, NULL, $1, L(@1)); }
    | IDENT '=' expr              { $$ = ast_arg(A, $1, $3, L(@1)); }
    ;

args: %empty                      { $$ = NULL; }
    | arg_list                    { $$ = $1; }
    | arg_list ','                { $$ = $1; }
    ;
arg_list: arg                     { $$ = $1; }
        | arg_list ',' arg        { $$ = ast_arg_append($1, $3); }
        ;
arg: expr                         { $$ = ast_arg(A, NULL, $1, L(@1)); }
   | IDENT '=' expr               { $$ = ast_arg(A, $1, $3, L(@1)); }
   ;

expr: postfix                     { $$ = $1; }
    | expr '+' expr               { $$ = binary(st, OPR_ADD, $1, $3, @2); }
    | expr '-' expr               { $$ = binary(st, OPR_SUB, $1, $3, @2); }
    | expr '*' expr               { $$ = binary(st, OPR_MUL, $1, $3, @2); }
    | expr '/' expr               { $$ = binary(st, OPR_DIV, $1, $3, @2); }
    | expr '%' expr               { $$ = binary(st, OPR_MOD, $1, $3, @2); }
    | expr EQ expr                { $$ = binary(st, OPR_EQ, $1, $3, @2); }
    | expr NE expr                { $$ = binary(st, OPR_NE, $1, $3, @2); }
    | expr '<' expr               { $$ = binary(st, OPR_LT, $1, $3, @2); }
    | expr LE expr                { $$ = binary(st, OPR_LE, $1, $3, @2); }
    | expr '>' expr               { $$ = binary(st, OPR_GT, $1, $3, @2); }
    | expr GE expr                { $$ = binary(st, OPR_GE, $1, $3, @2); }
    | expr AND expr               { $$ = binary(st, OPR_AND, $1, $3, @2); }
    | expr OR expr                { $$ = binary(st, OPR_OR, $1, $3, @2); }
    | expr '?' expr ':' expr      { $$ = ast_expr(A, EX_COND, L(@2)); $$->a = $1; $$->b = $3; $$->c = $5; }
    | expr ARROW IDENT            { $$ = pipe_call(st, $1, $3, NULL, @3); }
    | expr ARROW IDENT '(' args ')' { $$ = pipe_call(st, $1, $3, $5, @3); }
    | '-' expr %prec UNARY        { $$ = ast_expr(A, EX_UNARY, L(@1)); $$->op = OPR_NEG; $$->a = $2; }
    | '!' expr %prec UNARY        { $$ = ast_expr(A, EX_UNARY, L(@1)); $$->op = OPR_NOT; $$->a = $2; }
    ;
postfix: primary                  { $$ = $1; }
       | postfix '.' IDENT        { $$ = ast_expr(A, EX_MEMBER, L(@3)); $$->a = $1; $$->str = $3; }
       | postfix '[' expr ']'     { $$ = ast_expr(A, EX_INDEX, L(@2)); $$->a = $1; $$->b = $3; }
       | IDENT '(' args ')'       { $$ = ast_expr(A, EX_CALL, L(@1)); $$->str = $1; $$->args = $3;
                                    $$->nargs = ast_arg_count($3); }
       ;
primary: INT_LIT                  { $$ = ast_expr(A, EX_INT, L(@1)); $$->ival = $1; }
       | FLOAT_LIT                { $$ = ast_expr(A, EX_FLOAT, L(@1)); $$->fval = $1; }
       | PERCENT                  { $$ = ast_expr(A, EX_FLOAT, L(@1)); $$->fval = $1; $$->percent = true; }
       | BOOL_LIT                 { $$ = ast_expr(A, EX_BOOL, L(@1)); $$->ival = $1; }
       | STRING_LIT               { $$ = ast_expr(A, EX_STRING, L(@1)); $$->str = $1; }
       | DIMS                     { $$ = ast_expr(A, EX_DIMS, L(@1)); $$->ndims = $1.n;
                                    for (int i = 0; i < $1.n; i++) $$->dims[i] = $1.dims[i]; }
       | IDENT                    { $$ = ast_expr(A, EX_IDENT, L(@1)); $$->str = $1; }
       | IN                       { $$ = ast_expr(A, EX_IDENT, L(@1)); $$->str = "in"; }
       | '(' expr ')'             { $$ = $2; }
       | '(' expr ',' args ')'    { $$ = ast_expr(A, EX_TUPLE, L(@1));
                                    $$->args = ast_arg_append(ast_arg(A, NULL, $2, L(@2)), $4);
                                    $$->nargs = ast_arg_count($$->args); }
       | '[' args ']'             { $$ = ast_expr(A, EX_LIST, L(@1)); $$->args = $2; $$->nargs = ast_arg_count($2); }
       | '[' expr comp_clauses ']' { $$ = comprehension(st, $2, $3, @1); }
       ;
%%

static Expr *binary(LexState *st, Operator op, Expr *a, Expr *b, SqnLoc loc) {
  Expr *e = ast_expr(A, EX_BINARY, L(loc));
  e->op = op;
  e->a = a;
  e->b = b;
  return e;
}

static Expr *comp_for(LexState *st, const char *var, Expr *iterable, SqnLoc loc) {
  Expr *e = ast_expr(A, EX_FOR, L(loc));
  e->str = var;
  e->a = iterable;
  return e;
}

static Expr *comprehension(LexState *st, Expr *element, Arg *clauses, SqnLoc loc) {
  Expr *e = ast_expr(A, EX_COMP, L(loc));
  e->a = element;
  e->args = clauses;
  e->nargs = ast_arg_count(clauses);
  return e;
}

static Expr *pipe_call(LexState *st, Expr *input, const char *callee, Arg *args, SqnLoc loc) {
  Expr *e = ast_expr(A, EX_CALL, L(loc));
  e->str = callee;
  e->args = ast_arg_append(ast_arg(A, NULL, input, input->loc), args);
  e->nargs = ast_arg_count(e->args);
  return e;
}
