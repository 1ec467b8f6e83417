/* builtin_eltwise.c - the elementwise ops added for issue 17 (silu, hsigmoid, tanh, leaky_relu, sub,
   affine) and the arithmetic operators on tensors: tensor (+ - *) tensor broadcasts (add, sub, mul);
   tensor with a number, and unary minus, become one affine node y = alpha * x + beta. */
#include <float.h>
#include <math.h>
#include "builtins.h"

static Value op_silu(Elab *e, Scope *s, const Expr *c, Bound *b) { return builtin_unary(e, s, c, b, OP_SILU); }
static Value op_hsigmoid(Elab *e, Scope *s, const Expr *c, Bound *b) { return builtin_unary(e, s, c, b, OP_HSIGMOID); }
static Value op_tanh(Elab *e, Scope *s, const Expr *c, Bound *b) { return builtin_unary(e, s, c, b, OP_TANH); }

static bool is_number(Value v) { return v.kind == V_INT || v.kind == V_FLOAT; }
static double num(Value v) { return v.kind == V_INT ? (double)v.i : v.f; }

/* Parameter i as a number that a float32 holds (dflt when not given). */
static bool opt_number(Elab *e, const Bound *b, int i, const char *what, double dflt, double *out) {
  *out = dflt;
  if (!b->has[i]) return true;
  if (!is_number(b->v[i]) || !(fabs(num(b->v[i])) <= FLT_MAX)) {
    elab_error(e, b->loc[i], "write a number such as 0.5", "%s must be a number, got %s", what,
               value_to_string(e, b->v[i]));
    return false;
  }
  *out = num(b->v[i]);
  return true;
}

/* One alpha/beta node on x; counted: a call (takes a sequential index), else an operator. */
static Value alpha_beta_node(Elab *e, Scope *s, OpKind k, Value x, double alpha, double beta, SrcLoc loc, bool counted,
                             const char *name) {
  int id = builtin_node(e, s, k, &x.node, 1, loc, counted, name, shape_of(e, x));
  if (id < 0) return v_error();
  e->g->nodes[id].alpha = alpha, e->g->nodes[id].beta = beta;
  return v_tensor(id);
}

static Value op_leaky_relu(Elab *e, Scope *s, const Expr *call, Bound *b) {
  double slope;
  if (!need_tensor(e, b->v[0], call->loc, "leaky_relu", "x") || !opt_number(e, b, 1, "leaky_relu slope", 0.01, &slope))
    return v_error();
  if (!(slope >= 0 && slope <= 1)) {
    elab_error(e, b->loc[1], "the slope multiplies negative inputs: 0 is relu, PyTorch's default is 0.01",
               "leaky_relu slope must be from 0 to 1, got %g", slope);
    return v_error();
  }
  return alpha_beta_node(e, s, OP_LEAKY_RELU, b->v[0], slope, 0.0, call->loc, true, b->name);
}

static Value op_affine(Elab *e, Scope *s, const Expr *call, Bound *b) {
  double alpha, beta;
  if (!need_tensor(e, b->v[0], call->loc, "affine", "x") || !opt_number(e, b, 1, "affine a", 1.0, &alpha) ||
      !opt_number(e, b, 2, "affine b", 0.0, &beta))
    return v_error();
  return alpha_beta_node(e, s, OP_AFFINE, b->v[0], alpha, beta, call->loc, true, b->name);
}

static Value op_sub(Elab *e, Scope *s, const Expr *call, Bound *b) {
  if (!need_tensor(e, b->v[0], call->loc, "sub", "a") || !need_tensor(e, b->v[1], call->loc, "sub", "b"))
    return v_error();
  return builtin_broadcast(e, s, OP_SUB, b->v[0], b->v[1], call->loc, true, b->name);
}

OpBuilder builtin_eltwise_builder(OpKind k) {
  switch (k) {
  case OP_SILU: return op_silu;
  case OP_HSIGMOID: return op_hsigmoid;
  case OP_TANH: return op_tanh;
  case OP_LEAKY_RELU: return op_leaky_relu;
  case OP_SUB: return op_sub;
  case OP_AFFINE: return op_affine;
  default: return NULL;
  }
}

/* ---- operators ---- */

/* t op n (or n op t when num_first) as alpha * t + beta; / only divides a tensor by a number. */
static Value tensor_number(Elab *e, Scope *s, Operator op, Value t, double n, bool num_first, SrcLoc loc) {
  double alpha = 1.0, beta = 0.0;
  switch (op) {
  case OPR_ADD: beta = n; break;
  case OPR_SUB: alpha = num_first ? -1.0 : 1.0, beta = num_first ? n : -n; break;
  case OPR_MUL: alpha = n; break;
  case OPR_DIV:
    if (num_first) {
      elab_error(e, loc, "sqn has no reciprocal: divide a tensor by a number (t / 6), or use a gate (sigmoid, hsigmoid)",
                 "operator `/` cannot divide the number %g by a tensor", n);
      return v_error();
    }
    if (n == 0) {
      elab_error(e, loc, NULL, "division of a tensor by zero");
      return v_error();
    }
    alpha = 1.0 / n;
    break;
  default:
    elab_error(e, loc, "tensors take +, -, * with tensors or numbers, and / by a number",
               "operator `%s` cannot combine a tensor and a number", ast_operator_text(op));
    return v_error();
  }
  if (!(fabs(alpha) <= FLT_MAX && fabs(beta) <= FLT_MAX)) {
    elab_error(e, loc, NULL, "operator `%s` with %g gives a factor beyond float32", ast_operator_text(op), n);
    return v_error();
  }
  return alpha_beta_node(e, s, OP_AFFINE, t, alpha, beta, loc, false, NULL);
}

Value builtin_binary_tensor(Elab *e, Scope *s, Operator op, Value a, Value b, SrcLoc loc) {
  bool ta = a.kind == V_TENSOR, tb = b.kind == V_TENSOR;
  if (ta && tb && (op == OPR_ADD || op == OPR_SUB || op == OPR_MUL))
    return builtin_broadcast(e, s, op == OPR_ADD ? OP_ADD : op == OPR_SUB ? OP_SUB : OP_MUL, a, b, loc, false, NULL);
  if (ta && tb && op == OPR_DIV) {
    elab_error(e, loc, "divide by a number (t / 6), or gate with a product: a * sigmoid(b)",
               "operator `/` cannot divide a tensor by a tensor");
    return v_error();
  }
  if (ta != tb && is_number(ta ? b : a)) return tensor_number(e, s, op, ta ? a : b, num(ta ? b : a), tb, loc);
  elab_error(e, loc, "tensors take +, -, * with tensors or numbers, and / by a number",
             "operator `%s` cannot combine %s and %s", ast_operator_text(op), value_to_string(e, a),
             value_to_string(e, b));
  return v_error();
}

Value builtin_negate(Elab *e, Scope *s, Value t, SrcLoc loc) {
  return alpha_beta_node(e, s, OP_AFFINE, t, -1.0, 0.0, loc, false, NULL);
}
