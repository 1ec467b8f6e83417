/* synth_objects.c - the objects of a synthetic street scene (synth_internal.h): cars (parked and in
   lanes, rear or front plus the visible side: body, windows, lights, wheels, all 'car'), buses and
   trucks, pedestrians, cyclists (rider + bicycle) and parked bicycles, poles (plain, street lamps,
   with traffic signs, with traffic lights, overhead light arms) and trees. Placement draws from
   the scene's Rng; drawing ray-casts each object's planar faces in its screen box, far to near. */
#include <stdlib.h>
#include "synth_internal.h"

/* ---- colours ---- */

static Rgb hsv(double h, double s, double v) {
  double c = v * s, hp = fmod(h, 1.0) * 6, x = c * (1 - fabs(fmod(hp, 2.0) - 1)), m = v - c;
  double r = 0, g = 0, b = 0;
  if (hp < 1) r = c, g = x;
  else if (hp < 2) r = x, g = c;
  else if (hp < 3) g = c, b = x;
  else if (hp < 4) g = x, b = c;
  else if (hp < 5) r = x, b = c;
  else r = c, b = x;
  return rgb((r + m) * 255, (g + m) * 255, (b + m) * 255);
}

/* Vehicle paint: greys and whites, random hues, or one of the scene's facade colours. */
static Rgb paint_color(const Scene *s, Rng *r) {
  double pick = rng_u01(r);
  if (pick < 0.45) return rgb_add(rgb(0, 0, 0), rng_range(r, 20, 235));
  if (pick < 0.82) return hsv(rng_u01(r), rng_range(r, 0.3, 0.9), rng_range(r, 0.25, 0.95));
  return s->palette[rng_int(r, 0, 5)];
}

/* Clothes: mostly dark or muted, sometimes bright. */
static Rgb cloth_color(Rng *r) {
  if (rng_chance(r, 0.5)) return rgb_add(rgb(0, 0, 0), rng_range(r, 15, 120));
  return hsv(rng_u01(r), rng_range(r, 0.2, 0.9), rng_range(r, 0.2, 0.95));
}

static Rgb skin_color(Rng *r) {
  double t = rng_u01(r);
  return rgb_mix(rgb(235, 195, 165), rgb(95, 62, 45), t);
}

static Rgb glass_color(const Scene *s, Rng *r) {
  Rgb dark = rgb(rng_range(r, 20, 45), rng_range(r, 25, 50), rng_range(r, 30, 60));
  return rng_chance(r, 0.35) ? rgb_mix(dark, s->sky_horizon, rng_range(r, 0.2, 0.5)) : dark;
}

/* ---- placement ---- */

static Obj *add_obj(Scene *s, Rng *r, int kind, double X, double Z) {
  if (s->nobjs >= SYNTH_MAX_OBJS) return NULL;
  Obj *o = &s->objs[s->nobjs++];
  *o = (Obj){.kind = kind, .X = X, .Z = Z, .dir = rng_chance(r, 0.5) ? 1 : -1, .key = (uint32_t)rng_next(r)};
  return o;
}

static void add_shadow(Scene *s, double X0, double X1, double Z0, double Z1, double dark) {
  if (s->nshadows < SYNTH_MAX_SHADOWS) s->shadows[s->nshadows++] = (GroundShadow){X0, X1, Z0, Z1, dark};
}

static bool in_cross_street(const Scene *s, double Z, double margin) {
  return s->cross && Z > s->cross_z0 - margin && Z < s->cross_z1 + margin;
}

/* Whether a vehicle at (X, Z..Z+len) would overlap one already placed. */
static bool vehicle_clashes(const Scene *s, double X, double Z, double len) {
  for (int i = 0; i < s->nobjs; i++) {
    const Obj *o = &s->objs[i];
    if (o->kind > OBJ_TRUCK) continue;
    if (fabs(o->X - X) < (o->w + 2.0) / 2 + 0.6 && Z < o->Z + o->len + 1.5 && o->Z < Z + len + 1.5) return true;
  }
  return false;
}

/* Adds a vehicle unless it would overlap another; returns it, or NULL. */
static Obj *add_vehicle(Scene *s, Rng *r, int kind, double X, double Z, bool front) {
  double w = 1.8, h = 1.5, len = 4.4;
  if (kind == OBJ_CAR) w = rng_range(r, 1.65, 2.0), h = rng_range(r, 1.35, 1.8), len = rng_range(r, 3.8, 4.9);
  if (kind == OBJ_BUS) w = 2.55, h = rng_range(r, 2.9, 3.4), len = rng_range(r, 10, 13);
  if (kind == OBJ_TRUCK) w = 2.5, h = rng_range(r, 3.2, 3.9), len = rng_range(r, 7, 10);
  if (vehicle_clashes(s, X, Z, len) || Z + len > s->z_end) return NULL;
  Obj *o = add_obj(s, r, kind, X, Z);
  if (!o) return NULL;
  o->w = w, o->h = h, o->len = len, o->front = front;
  o->c[0] = kind == OBJ_BUS && rng_chance(r, 0.5) ? rgb(rng_range(r, 200, 240), rng_range(r, 150, 200), 30)
                                                  : paint_color(s, r);
  o->c[1] = glass_color(s, r);
  o->c[2] = kind == OBJ_TRUCK ? paint_color(s, r) : rgb_scale(o->c[0], 0.6); /* truck cab / bumpers */
  o->p[0] = kind == OBJ_TRUCK ? rng_range(r, 1.9, 2.4) : 0; /* cab length */
  add_shadow(s, X - w / 2 - 0.15, X + w / 2 + 0.15, Z - 0.3, Z + len + 0.3, 0.5);
  return o;
}

static void place_parked_cars(Scene *s, Rng *r) {
  for (int side = 0; side < 2; side++) {
    if (!rng_chance(r, 0.5)) continue;
    double X = side ? s->road_r - 1.15 : s->road_l + 1.15;
    double z = fabs(X) < 2.5 ? rng_range(r, 15, 25) : rng_range(r, 4, 12);
    while (z < dmin(s->z_end - 6, 70)) {
      Obj *car = NULL;
      if (!in_cross_street(s, z, 9) && rng_chance(r, 0.75)) car = add_vehicle(s, r, OBJ_CAR, X, z, rng_chance(r, 0.3));
      z += (car ? car->len : 4.5) + rng_range(r, 1.6, 5);
    }
  }
}

static void place_moving_vehicles(Scene *s, Rng *r) {
  int n = rng_int(r, 1, 6);
  for (int i = 0; i < n + 2; i++) {
    int lane = rng_int(r, 0, s->lanes - 1);
    double X = s->road_l + (lane + 0.5) * s->lane_w + rng_range(r, -0.3, 0.3);
    double Z = 6 + 70 * pow(rng_u01(r), 1.4);
    if (fabs(X) < 1.8) Z = dmax(Z, 9);
    bool oncoming = lane < s->lanes / 2;
    int kind = i < n ? OBJ_CAR : i == n ? (rng_chance(r, 0.25) ? OBJ_BUS : -1) : (rng_chance(r, 0.2) ? OBJ_TRUCK : -1);
    if (kind < 0) continue;
    if (kind != OBJ_CAR) Z = rng_range(r, 12, 60);
    add_vehicle(s, r, kind, X, Z, oncoming);
  }
}

static void add_person(Scene *s, Rng *r, double X, double Z) {
  Obj *o = add_obj(s, r, OBJ_PERSON, X, Z);
  if (!o) return;
  o->h = rng_chance(r, 0.08) ? rng_range(r, 1.0, 1.35) : rng_range(r, 1.5, 1.95);
  o->variant = rng_int(r, 0, 2); /* facing the camera, away, sideways */
  o->p[0] = rng_range(r, 0, 0.35) * o->h / 1.75; /* stride */
  o->p[1] = rng_chance(r, 0.2);                   /* long coat */
  o->p[2] = rng_chance(r, 0.25);                  /* bag */
  o->c[0] = skin_color(r), o->c[1] = cloth_color(r), o->c[2] = cloth_color(r);
  o->c[3] = rng_chance(r, 0.7) ? rgb_add(rgb(0, 0, 0), rng_range(r, 15, 70)) : rgb(150, 110, 60); /* hair */
  add_shadow(s, X - 0.3, X + 0.3, Z - 0.2, Z + 0.35, 0.7);
}

static void place_persons(Scene *s, Rng *r) {
  int n = rng_int(r, 1, 9);
  for (int i = 0; i < n; i++) {
    double X, Z = 4 + 50 * pow(rng_u01(r), 1.3);
    if (s->zebra && rng_chance(r, 0.12)) {
      X = rng_range(r, s->road_l + 0.5, s->road_r - 0.5), Z = s->zebra_z0 + rng_range(r, 0.8, 2.8);
    } else {
      int side = rng_int(r, 0, 1);
      X = side ? rng_range(r, s->road_r + 0.5, s->walk_r - 0.3) : rng_range(r, s->walk_l + 0.3, s->road_l - 0.5);
    }
    if (Z > s->z_end - 2) continue;
    add_person(s, r, X, Z);
    if (rng_chance(r, 0.3)) add_person(s, r, X + rng_range(r, -0.8, 0.8), Z + rng_range(r, 0.3, 1.2));
  }
}

static void add_bicycle(Scene *s, Rng *r, int kind, double X, double Z) {
  Obj *o = add_obj(s, r, kind, X, Z);
  if (!o) return;
  o->variant = kind == OBJ_CYCLIST && rng_chance(r, 0.45); /* 1: seen from behind */
  o->p[0] = rng_range(r, 0.9, 1.1);                        /* size */
  o->c[0] = paint_color(s, r), o->c[1] = cloth_color(r), o->c[2] = cloth_color(r), o->c[3] = skin_color(r);
}

static void place_cyclists(Scene *s, Rng *r) {
  int n = rng_chance(r, 0.55) + rng_chance(r, 0.25);
  for (int i = 0; i < n; i++) {
    int side = rng_int(r, 0, 1);
    double X = side ? s->road_r - rng_range(r, 0.6, 1.4) : s->road_l + rng_range(r, 0.6, 1.4);
    double Z = rng_range(r, 6, dmin(50, s->z_end - 3));
    if (fabs(X) < 0.8) Z = dmax(Z, 8);
    if (!vehicle_clashes(s, X, Z, 1.8)) add_bicycle(s, r, OBJ_CYCLIST, X, Z);
  }
  if (rng_chance(r, 0.3)) {
    int side = rng_int(r, 0, 1), k = rng_int(r, 1, 3);
    double X = side ? s->walk_r - 0.5 : s->walk_l + 0.5, Z = rng_range(r, 5, 30);
    for (int i = 0; i < k; i++) add_bicycle(s, r, OBJ_BICYCLE, X, Z + i * 0.7);
  }
}

static void choose_sign(Obj *o, Rng *r) {
  o->variant = POLE_SIGN;
  o->p[0] = rng_range(r, 2.1, 3.0);           /* centre height */
  o->p[1] = rng_range(r, 0.3, 0.45);          /* size */
  o->p[2] = rng_int(r, 0, 4);                 /* circle, triangle, rectangle, diamond, back side */
  o->h = o->p[0] + o->p[1] + rng_range(r, 0, 0.6);
  static const float faces[][3] = {{235, 235, 235}, {30, 80, 170}, {240, 200, 30}, {30, 120, 60}};
  const float *f = faces[rng_int(r, 0, 3)];
  o->c[1] = rgb(f[0], f[1], f[2]);
  o->c[2] = rng_chance(r, 0.6) ? rgb(200, 30, 35) : rgb(235, 235, 235);
}

static void choose_light(Obj *o, Rng *r, bool overhead) {
  o->variant = overhead ? POLE_OVERHEAD : POLE_LIGHT;
  o->p[0] = overhead ? rng_range(r, 5.0, 5.8) : rng_range(r, 2.6, 3.6); /* box centre height */
  o->h = overhead ? o->p[0] + 0.7 : o->p[0] + 0.55;
  o->p[2] = rng_int(r, 0, 2);                                             /* which lamp is lit */
  o->c[1] = rng_chance(r, 0.7) ? rgb_add(rgb(0, 0, 0), rng_range(r, 20, 50)) : rgb(200, 170, 40);
  static const float lit[3][3] = {{255, 60, 40}, {255, 190, 40}, {60, 255, 140}};
  o->c[3] = rgb(lit[(int)o->p[2]][0], lit[(int)o->p[2]][1], lit[(int)o->p[2]][2]);
}

static Obj *add_pole(Scene *s, Rng *r, int side, double Z, int type) {
  double X = side ? s->road_r + rng_range(r, 0.35, 0.6) : s->road_l - rng_range(r, 0.35, 0.6);
  Obj *o = add_obj(s, r, OBJ_POLE, X, Z);
  if (!o) return NULL;
  o->w = rng_range(r, 0.06, 0.12);
  o->c[0] = rng_chance(r, 0.6) ? rgb_add(rgb(0, 0, 0), rng_range(r, 60, 170)) : rgb(rng_range(r, 30, 60), rng_range(r, 50, 80), rng_range(r, 40, 60));
  o->variant = type;
  o->p[3] = (side ? -1 : 1) * rng_range(r, 1.0, 2.2); /* lamp arm, towards the road */
  if (type == POLE_LAMP) o->h = rng_range(r, 6, 9);
  if (type == POLE_PLAIN) o->h = rng_range(r, 2.5, 5);
  if (type == POLE_SIGN) choose_sign(o, r);
  if (type == POLE_LIGHT || type == POLE_OVERHEAD) choose_light(o, r, type == POLE_OVERHEAD);
  if (type == POLE_OVERHEAD) o->p[3] = (side ? -1 : 1) * rng_range(r, 3, 6);
  return o;
}

static void place_poles(Scene *s, Rng *r) {
  bool sign = false;
  for (int side = 0; side < 2; side++) {
    double spacing = rng_range(r, 12, 30);
    for (double z = rng_range(r, 3, 18); z < dmin(s->z_end - 3, 110); z += spacing * rng_range(r, 0.8, 1.2)) {
      if (in_cross_street(s, z, 0.5)) continue;
      double pick = rng_u01(r);
      int type = pick < 0.4 ? POLE_LAMP : pick < 0.75 ? POLE_SIGN : pick < 0.92 ? POLE_PLAIN : POLE_LIGHT;
      sign |= type == POLE_SIGN;
      add_pole(s, r, side, z, type);
    }
  }
  if (s->cross) {
    double z = s->cross_z0 - rng_range(r, 1, 2.5);
    add_pole(s, r, 0, z, POLE_LIGHT);
    add_pole(s, r, 1, z, rng_chance(r, 0.5) ? POLE_OVERHEAD : POLE_LIGHT);
  }
  if (!sign) add_pole(s, r, rng_int(r, 0, 1), rng_range(r, 8, dmax(9, dmin(35, s->z_end - 4))), POLE_SIGN);
}

static void place_trees(Scene *s, Rng *r) {
  for (int side = 0; side < 2; side++) {
    double strip = side ? s->front_r - s->walk_r : s->walk_l - s->front_l;
    if (strip < 0.5 && !rng_chance(r, 0.3)) continue;
    double X = strip >= 0.5 ? (side ? s->walk_r + strip / 2 : s->walk_l - strip / 2) : (side ? s->walk_r - 0.7 : s->walk_l + 0.7);
    double step = rng_range(r, 6, 14);
    Rgb leaves = rgb(rng_range(r, 40, 95), rng_range(r, 70, 130), rng_range(r, 25, 60));
    for (double z = rng_range(r, 2, 10); z < dmin(s->z_end - 3, 90); z += step * rng_range(r, 0.85, 1.15)) {
      if (in_cross_street(s, z, 2) || !rng_chance(r, 0.85)) continue;
      Obj *o = add_obj(s, r, OBJ_TREE, X + rng_range(r, -0.3, 0.3), z);
      if (!o) return;
      o->w = rng_range(r, 0.12, 0.22);
      o->p[0] = rng_range(r, 1.8, 3.5);
      o->p[1] = rng_range(r, 1.3, 3.5);
      o->p[2] = o->p[1] * rng_range(r, 0.9, 1.4);
      o->c[0] = rgb(rng_range(r, 60, 110), rng_range(r, 50, 85), rng_range(r, 35, 60));
      o->c[1] = rgb_add(leaves, rng_range(r, -12, 12));
    }
  }
}

void synth_place_objects(Scene *s, Rng *r) {
  place_parked_cars(s, r);
  place_moving_vehicles(s, r);
  place_persons(s, r);
  place_cyclists(s, r);
  place_poles(s, r);
  place_trees(s, r);
}

/* ---- shaders: (u across, v up) on an object's face -> colour and class, or nothing ---- */

typedef bool (*Shader)(const Obj *o, double u, double v, double px, Rgb *c, int *id);

static double dist2d(double x, double y) { return sqrt(x * x + y * y); }

/* Distance from (x, y) to the segment (ax, ay)-(bx, by). */
static double seg_dist(double x, double y, double ax, double ay, double bx, double by) {
  double vx = bx - ax, vy = by - ay, wx = x - ax, wy = y - ay;
  double t = dmax(0, dmin(1, (wx * vx + wy * vy) / (vx * vx + vy * vy + 1e-12)));
  return dist2d(wx - t * vx, wy - t * vy);
}

/* A thick stroke at least one pixel wide. */
static bool on_stroke(double x, double y, double ax, double ay, double bx, double by, double half, double px) {
  return seg_dist(x, y, ax, ay, bx, by) < dmax(half, 0.5 * px);
}

/* Rear or front of a car: wheels, body with lights and plate, cabin with the window. */
static bool car_face(const Obj *o, double u, double v, double px, Rgb *c, int *id) {
  (void)px;
  double hw = o->w / 2, body_top = 0.58 * o->h, au = fabs(u);
  *id = T_CAR;
  if (v < 0 || v > o->h || au > hw) return false;
  if (v < 0.32) {
    if (au > hw - 0.32) return *c = rgb(25, 25, 28), true;
    if (v > 0.14) return *c = rgb(35, 35, 38), true;
    return false;
  }
  if (v <= body_top) {
    if (v > body_top - 0.22 && v < body_top - 0.06 && au > hw - 0.38 && au < hw - 0.05)
      return *c = o->front ? rgb(235, 235, 215) : rgb(200, 30, 30), true;
    if (v > 0.33 && v < 0.45 && au < 0.26) return *c = rgb(215, 215, 205), true;
    if (o->front && v > body_top - 0.25 && v < body_top - 0.05 && au < 0.35) return *c = rgb(30, 30, 32), true;
    if (v < 0.42) return *c = o->c[2], true;
    return *c = rgb_scale(o->c[0], 0.85 + 0.25 * v / body_top), true;
  }
  double t = (v - body_top) / (o->h - body_top), half = hw - 0.08 - 0.25 * t;
  if (au > half) return false;
  if (t > 0.12 && t < 0.88 && au < half - 0.1) return *c = rgb_scale(o->c[1], 0.8 + 0.4 * t), true;
  return *c = rgb_scale(o->c[0], 1.05), true;
}

/* A wheel of radius rad centred at (wu, rad): tyre and rim; true when (u, v) is on it. */
static bool wheel(double u, double v, double wu, double rad, Rgb *c) {
  double d = dist2d(u - wu, v - rad);
  if (d >= rad) return false;
  *c = d < rad * 0.55 ? rgb(150, 150, 155) : rgb(25, 25, 28);
  return true;
}

/* The visible side of a car; u runs from the near end (rear, or front when oncoming). */
static bool car_side(const Obj *o, double u, double v, double px, Rgb *c, int *id) {
  (void)px;
  double L = o->len, from_front = o->front ? u : L - u, body_top = 0.58 * o->h;
  *id = T_CAR;
  if (v < 0 || v > o->h || u < 0 || u > L) return false;
  if (wheel(from_front, v, 0.18 * L, 0.33, c) || wheel(from_front, v, 0.8 * L, 0.33, c)) return true;
  if (v < 0.2) return false;
  if (v <= body_top) {
    if (dist2d(from_front - 0.18 * L, v - 0.33) < 0.42 || dist2d(from_front - 0.8 * L, v - 0.33) < 0.42)
      return *c = rgb(30, 30, 32), true; /* wheel arches */
    if (fabs(from_front - 0.45 * L) < 0.02 || fabs(from_front - 0.68 * L) < 0.02) return *c = rgb_scale(o->c[0], 0.5), true;
    return *c = rgb_scale(o->c[0], 0.72 + 0.2 * v / body_top), true;
  }
  double t = (v - body_top) / (o->h - body_top);
  double a = (0.3 + 0.12 * t) * L, b = (0.82 - 0.06 * t) * L;
  if (from_front < a || from_front > b) return false;
  if (t > 0.12 && t < 0.85 && from_front > a + 0.1 && from_front < b - 0.1 && fabs(from_front - 0.56 * L) > 0.06)
    return *c = rgb_scale(o->c[1], 0.9), true;
  return *c = rgb_scale(o->c[0], 0.8), true;
}

/* Rear or front of a bus: big windscreen or small rear window, destination display, lights. */
static bool bus_face(const Obj *o, double u, double v, double px, Rgb *c, int *id) {
  (void)px;
  double hw = o->w / 2, au = fabs(u);
  *id = T_BUS;
  if (v < 0 || v > o->h || au > hw) return false;
  if (v < 0.4) {
    if (au > hw - 0.35) return *c = rgb(25, 25, 28), true;
    if (v > 0.2) return *c = rgb(35, 35, 38), true;
    return false;
  }
  if (o->front && v > o->h - 0.45 && v < o->h - 0.15 && au < hw - 0.2) return *c = rgb(20, 20, 20), true;
  if (o->front && v > 1.1 && v < o->h - 0.5 && au < hw - 0.1) return *c = o->c[1], true;
  if (!o->front && v > o->h - 1.2 && v < o->h - 0.3 && au < hw - 0.25) return *c = o->c[1], true;
  if (v > 0.6 && v < 0.85 && au > hw - 0.4) return *c = o->front ? rgb(235, 235, 210) : rgb(200, 30, 30), true;
  return *c = rgb_scale(o->c[0], 0.85 + 0.1 * v / o->h), true;
}

static bool bus_side(const Obj *o, double u, double v, double px, Rgb *c, int *id) {
  (void)px;
  double L = o->len, from_front = o->front ? u : L - u;
  *id = T_BUS;
  if (v < 0 || v > o->h || u < 0 || u > L) return false;
  if (wheel(from_front, v, 2.4, 0.5, c) || wheel(from_front, v, L - 3.0, 0.5, c)) return true;
  if (v < 0.3) return false;
  if (v > 1.2 && v < o->h - 0.45 && from_front > 0.5 && fmod_pos(from_front, 1.45) > 0.12) {
    if (from_front > 1.0 && from_front < 2.1 && v < o->h - 0.45) return *c = rgb(40, 40, 45), true; /* door */
    return *c = o->c[1], true;
  }
  if (v > 0.55 && v < 0.7) return *c = rgb_scale(o->c[0], 0.6), true;
  return *c = rgb_scale(o->c[0], 0.78), true;
}

/* A truck: cargo box behind a lower cab. Rear: the box doors. Front: cab face (box above it). */
static bool truck_face(const Obj *o, double u, double v, double px, Rgb *c, int *id) {
  (void)px;
  double hw = o->w / 2, au = fabs(u), cab_h = 2.8;
  *id = T_TRUCK;
  if (v < 0 || v > o->h || au > hw) return false;
  if (v < 0.5) {
    if (au > hw - 0.4) return *c = rgb(25, 25, 28), true;
    if (v > 0.25) return *c = rgb(45, 45, 45), true;
    return false;
  }
  if (!o->front) {
    if (v < 0.75) return *c = rgb(40, 40, 40), true;
    if (au < 0.03 || (v > 0.8 && v < 0.95 && au > hw - 0.3)) return *c = au < 0.03 ? rgb(60, 60, 60) : rgb(200, 30, 30), true;
    return *c = rgb_scale(o->c[0], 0.8 + 0.15 * hash01(o->key, (int32_t)floor(v * 2), 0)), true;
  }
  if (v > cab_h) return *c = rgb_scale(o->c[0], 0.8), true; /* the box above the cab */
  if (v > 1.6 && v < cab_h - 0.15 && au < hw - 0.15) return *c = o->c[1], true;
  if (v > 0.6 && v < 1.3 && au < 0.7) return *c = rgb(35, 35, 38), true;
  if (v > 0.7 && v < 0.9 && au > hw - 0.35) return *c = rgb(235, 235, 210), true;
  return *c = o->c[2], true;
}

static bool truck_side(const Obj *o, double u, double v, double px, Rgb *c, int *id) {
  (void)px;
  double L = o->len, from_front = o->front ? u : L - u, cab_len = o->p[0];
  *id = T_TRUCK;
  if (v < 0 || v > o->h || u < 0 || u > L) return false;
  if (wheel(from_front, v, 1.2, 0.5, c) || wheel(from_front, v, L - 1.6, 0.5, c) || wheel(from_front, v, L - 2.7, 0.5, c))
    return true;
  if (v < 0.45) return false;
  if (from_front < cab_len) {
    if (v > 2.8) return false;
    if (v > 1.6 && v < 2.6 && from_front > 0.2 && from_front < cab_len - 0.4) return *c = o->c[1], true;
    return *c = rgb_scale(o->c[2], 0.8), true;
  }
  if (v < 1.0) return *c = rgb(45, 45, 45), true; /* chassis */
  if (from_front < cab_len + 0.15) return false;
  return *c = rgb_scale(o->c[0], 0.7 + 0.1 * vnoise(o->key, u * 0.3, v * 0.3)), true;
}

/* A pedestrian: head, hair, torso, arms, legs, shoes; facing the camera, away or sideways. */
static bool person(const Obj *o, double u, double v, double px, Rgb *c, int *id) {
  double s = o->h / 1.75, hip = 0.52 * o->h, sh = o->h - 0.25 * s, stride = o->p[0];
  bool side = o->variant == 2;
  *id = T_PERSON;
  if (v < 0 || v > o->h) return false;
  double hy = o->h - 0.12 * s, hx = (side ? 0.1 : 0.09) * s;
  if (sq(u / hx) + sq((v - hy) / (0.12 * s)) < 1) {
    bool hair = o->variant == 1 || v > hy + 0.04 * s || (side && u * o->dir < -0.02 * s);
    return *c = hair ? o->c[3] : o->c[0], true;
  }
  if (v > sh - 0.02 * s && v < hy && fabs(u) < 0.045 * s) return *c = o->c[0], true;
  double coat_bottom = o->p[1] > 0.5 ? 0.32 * o->h : hip;
  if (v >= coat_bottom && v <= sh + 0.02 * s) {
    double t = (v - hip) / (sh - hip), half = (0.13 + 0.06 * dmin(1, dmax(0, t))) * s * (side ? 0.62 : 1);
    if (v < hip) half = 0.15 * s + 0.05 * s * (hip - v) / (hip - coat_bottom);
    if (fabs(u) < half) return *c = rgb_scale(o->c[1], 0.8 + 0.3 * t), true;
    if (!side && fabs(u) < half + 0.075 * s && v > hip - 0.12 * s && v < sh - 0.02 * s)
      return *c = v < hip - 0.04 * s ? o->c[0] : rgb_scale(o->c[1], 0.75), true; /* arms, hands */
    if (o->p[2] > 0.5 && u * o->dir > half && u * o->dir < half + 0.2 * s && fabs(v - hip) < 0.15 * s)
      return *c = rgb(60, 40, 30), true; /* bag */
  }
  if (side && on_stroke(u, v, 0, sh - 0.03 * s, -stride * 0.6 * o->dir, hip - 0.05 * s, 0.04 * s, px))
    return *c = rgb_scale(o->c[1], 0.75), true;
  if (v < hip + 0.02 * s) {
    for (int leg = -1; leg <= 1; leg += 2) {
      double top = side ? 0 : leg * 0.065 * s, foot = side ? leg * stride : leg * (0.065 * s + stride * 0.3);
      if (on_stroke(u, v, top, hip, foot, 0.03 * s, 0.06 * s, px))
        return *c = v < 0.06 * s ? rgb(30, 28, 26) : o->c[2], true;
    }
  }
  return false;
}

/* A bicycle seen from the side (u along its direction of travel). */
static bool bicycle_side(double u, double v, double px, Rgb frame, Rgb *c) {
  static const double tubes[][4] = {{-0.52, 0.34, 0, 0.3},      {0, 0.3, -0.15, 0.82},   {-0.15, 0.82, -0.52, 0.34},
                                    {0, 0.3, 0.38, 0.8},        {-0.15, 0.78, 0.38, 0.8}, {0.38, 0.8, 0.52, 0.34},
                                    {0.38, 0.8, 0.36, 0.98},    {0.3, 0.98, 0.42, 0.98}, {-0.26, 0.86, -0.06, 0.86}};
  for (int k = -1; k <= 1; k += 2) {
    double d = dist2d(u - k * 0.52, v - 0.34);
    if (fabs(d - 0.32) < dmax(0.035, 0.5 * px)) return *c = rgb(25, 25, 28), true;
    if (d < 0.04) return *c = rgb(120, 120, 120), true;
  }
  for (size_t i = 0; i < sizeof tubes / sizeof tubes[0]; i++)
    if (on_stroke(u, v, tubes[i][0], tubes[i][1], tubes[i][2], tubes[i][3], 0.022, px))
      return *c = i >= 7 ? rgb(30, 30, 30) : frame, true;
  return false;
}

/* The rider on a bicycle seen from the side. */
static bool rider_side(const Obj *o, double u, double v, double px, Rgb *c) {
  if (dist2d(u - 0.2, v - 1.62) < 0.11) return *c = v > 1.64 ? o->c[1] : o->c[3], true; /* head, cap */
  if (on_stroke(u, v, -0.15, 0.95, 0.12, 1.45, 0.13, px)) return *c = o->c[1], true;   /* torso */
  if (on_stroke(u, v, 0.12, 1.42, 0.3, 1.2, 0.045, px) || on_stroke(u, v, 0.3, 1.2, 0.36, 1.0, 0.04, px))
    return *c = rgb_scale(o->c[1], 0.8), true;
  static const double legs[][4] = {{-0.15, 0.95, 0.12, 0.62}, {0.12, 0.62, 0.05, 0.22}, {-0.15, 0.95, -0.02, 0.6}, {-0.02, 0.6, -0.08, 0.25}};
  for (int i = 0; i < 4; i++)
    if (on_stroke(u, v, legs[i][0], legs[i][1], legs[i][2], legs[i][3], 0.065, px)) return *c = o->c[2], true;
  return false;
}

/* A cyclist seen from behind: thin rear wheel, handlebar, and the rider's back. */
static bool cyclist_rear(const Obj *o, double u, double v, double px, Rgb *c, int *id) {
  *id = T_RIDER;
  if (dist2d(u, v - 1.6) < 0.11) return *c = o->c[3], true;
  if (v > 0.92 && v < 1.47 && fabs(u) < 0.17 - 0.04 * (1.47 - v)) return *c = o->c[1], true;
  for (int k = -1; k <= 1; k += 2) {
    if (on_stroke(u, v, k * 0.09, 0.95, k * 0.13, 0.55, 0.065, px) || on_stroke(u, v, k * 0.13, 0.55, k * 0.1, 0.25, 0.055, px))
      return *c = o->c[2], true;
    if (on_stroke(u, v, k * 0.17, 1.4, k * 0.26, 1.0, 0.045, px)) return *c = rgb_scale(o->c[1], 0.8), true;
  }
  *id = T_BICYCLE;
  if (fabs(u) < dmax(0.025, 0.5 * px) && v > 0.02 && v < 0.68) return *c = rgb(25, 25, 28), true;
  if (fabs(u) < 0.04 && v > 0.68 && v < 0.76) return *c = rgb(200, 30, 30), true;
  if (v > 0.96 && v < 1.01 && fabs(u) < 0.28) return *c = rgb(30, 30, 30), true;
  return false;
}

static bool cyclist(const Obj *o, double u, double v, double px, Rgb *c, int *id) {
  double k = o->p[0];
  u /= k, v /= k, px /= k;
  if (o->variant == 1) return cyclist_rear(o, u, v, px, c, id);
  u *= o->dir;
  if (o->kind == OBJ_CYCLIST && rider_side(o, u, v, px, c)) return *id = T_RIDER, true;
  return *id = T_BICYCLE, bicycle_side(u, v, px, o->c[0], c);
}

/* A traffic sign face centred at height vc with size r; shape 4 is a sign seen from behind. */
static bool sign_face(const Obj *o, double u, double v, Rgb *c) {
  double r = o->p[1], dv = v - o->p[0], au = fabs(u);
  switch ((int)o->p[2]) {
  case 0: {
    double d = dist2d(u, dv) / r;
    if (d >= 1) return false;
    *c = d > 0.78 ? o->c[2] : (fabs(dv) < 0.12 * r && au < 0.6 * r) ? rgb(240, 240, 240) : o->c[1];
    return true;
  }
  case 1: {
    double top = 0.9 * r, bottom = -0.55 * r, half = r * (top - dv) / (top - bottom);
    if (dv < bottom || dv > top || au > half) return false;
    bool inner = dv > bottom + 0.2 * r && au < half - 0.25 * r;
    *c = inner ? rgb(240, 240, 235) : rgb(200, 30, 35);
    if (inner && au < 0.06 * r && dv > -0.1 * r && dv < 0.4 * r) *c = rgb(20, 20, 20);
    return true;
  }
  case 2:
    if (au > r || fabs(dv) > 0.7 * r) return false;
    *c = (au > r - 0.06 || fabs(dv) > 0.7 * r - 0.06) ? rgb(240, 240, 240) : o->c[1];
    return true;
  case 3:
    if (au + fabs(dv) > r) return false;
    *c = au + fabs(dv) > 0.8 * r ? rgb(240, 240, 240) : rgb(245, 195, 30);
    return true;
  default:
    if (dist2d(u, dv) > r) return false;
    *c = rgb_scale(o->c[0], 1.1);
    return true;
  }
}

/* A traffic light housing (with optional back plate) centred at (lu, vc): three lamps, one lit. */
static bool light_box(const Obj *o, double u, double v, double lu, Rgb *c) {
  double du = u - lu, dv = v - o->p[0];
  if (fabs(du) > 0.24 || fabs(dv) > 0.52) return false;
  if (fabs(du) > 0.17 || fabs(dv) > 0.45) {
    if (!(o->key & 1)) return false;
    return *c = rgb(230, 230, 230), true; /* back plate border */
  }
  for (int k = 0; k < 3; k++)
    if (dist2d(du, dv - (0.28 - 0.28 * k)) < 0.1) return *c = k == (int)o->p[2] ? o->c[3] : rgb(45, 45, 40), true;
  return *c = o->c[1], true;
}

/* A pole with whatever it carries: lamp arm and head, sign, traffic light, overhead light arm. */
static bool pole(const Obj *o, double u, double v, double px, Rgb *c, int *id) {
  double arm = o->p[3];
  if (o->variant == POLE_SIGN && sign_face(o, u, v, c)) return *id = T_SIGN, true;
  if (o->variant == POLE_LIGHT && light_box(o, u, v, 0, c)) return *id = T_LIGHT, true;
  if (o->variant == POLE_OVERHEAD && (light_box(o, u, v, arm, c) || light_box(o, u, v, arm * 0.45, c)))
    return *id = T_LIGHT, true;
  *id = T_POLE;
  double half = dmax(o->w, 0.5 * px);
  if (v >= 0 && v <= o->h && fabs(u) < half) {
    double t = fabs(u) / half;
    return *c = rgb_scale(o->c[0], 0.65 + 0.5 * sqrt(dmax(0, 1 - t * t))), true;
  }
  if (o->variant == POLE_LAMP) {
    if (on_stroke(u, v, 0, o->h - 0.1, arm, o->h + 0.15, 0.04, px)) return *c = o->c[0], true;
    if (sq((u - arm) / 0.35) + sq((v - o->h - 0.05) / 0.1) < 1) return *c = rgb(190, 190, 185), true;
  }
  if (o->variant == POLE_OVERHEAD && on_stroke(u, v, 0, o->p[0] + 0.6, arm, o->p[0] + 0.6, 0.06, px))
    return *c = o->c[0], true;
  return false;
}

/* A tree: trunk and a noisy crown with gaps, all vegetation. */
static bool tree(const Obj *o, double u, double v, double px, Rgb *c, int *id) {
  double trunk_h = o->p[0], rx = o->p[1], ry = o->p[2], cv = trunk_h + 0.85 * ry;
  *id = T_VEGETATION;
  double d = sq(u / rx) + sq((v - cv) / ry);
  if (d < 1 - 0.35 * vnoise(o->key, u * 1.2, v * 1.2)) {
    if (d > 0.3 && fbm2(o->key + 1u, u * 2.5, v * 2.5) < 0.22) return false;
    double shade = 0.75 + 0.35 * dmin(1, dmax(-1, (v - cv) / ry));
    return *c = rgb_scale(synth_shade_foliage(o->key, o->c[1], u, v), shade), true;
  }
  if (v >= 0 && v < cv && fabs(u) < dmax(o->w * (1 - 0.3 * v / cv), 0.5 * px))
    return *c = rgb_scale(o->c[0], 0.8 + 0.4 * hash01(o->key, (int32_t)floor(u * 30), (int32_t)floor(v * 8))), true;
  return false;
}

/* ---- drawing ---- */

/* Ray-casts a face parallel to the image plane at depth Z: u in [u0, u1] around X, v in [v0, v1]. */
static void draw_frontal(Scene *s, const Obj *o, double Z, double u0, double u1, double v0, double v1, Shader fn) {
  if (Z < 0.5) return;
  double px = Z / s->f;
  int x0 = (int)floor(s->cx + (o->X + u0) / px), x1 = (int)ceil(s->cx + (o->X + u1) / px);
  int y0 = (int)floor(s->cy + (s->cam_h - v1) / px), y1 = (int)ceil(s->cy + (s->cam_h - v0) / px);
  x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0, x1 = x1 > s->w ? s->w : x1, y1 = y1 > s->h ? s->h : y1;
  for (int y = y0; y < y1; y++) {
    double v = s->cam_h - (y + 0.5 - s->cy) * px;
    for (int x = x0; x < x1; x++) {
      Rgb c;
      int id;
      if (fn(o, (x + 0.5 - s->cx) * px - o->X, v, px, &c, &id)) synth_put_pixel(s, x, y, c, id);
    }
  }
}

/* Ray-casts a face in the plane X = Xp from depth z0 to z1 (u = depth - z0), heights 0..vmax. */
static void draw_side(Scene *s, const Obj *o, double Xp, double z0, double z1, double vmax, Shader fn) {
  double zn = dmax(z0, 0.5);
  if (fabs(Xp) < 1e-3 || z1 <= zn) return;
  double xa = s->cx + s->f * Xp / zn, xb = s->cx + s->f * Xp / z1;
  int x0 = (int)floor(dmin(xa, xb)), x1 = (int)ceil(dmax(xa, xb));
  int y0 = (int)floor(s->cy + s->f * dmin(s->cam_h - vmax, 0) / zn);
  int y1 = (int)ceil(s->cy + s->f * s->cam_h / zn);
  x0 = x0 < 0 ? 0 : x0, y0 = y0 < 0 ? 0 : y0, x1 = x1 > s->w ? s->w : x1, y1 = y1 > s->h ? s->h : y1;
  for (int x = x0; x < x1; x++) {
    double dx = (x + 0.5 - s->cx) / s->f;
    if (dx * Xp <= 0) continue;
    double z = Xp / dx;
    if (z < zn || z > z1) continue;
    for (int y = y0; y < y1; y++) {
      Rgb c;
      int id;
      if (fn(o, z - z0, s->cam_h - (y + 0.5 - s->cy) * z / s->f, z / s->f, &c, &id)) synth_put_pixel(s, x, y, c, id);
    }
  }
}

/* A vehicle: the side facing the camera (if any), then the near face. */
static void draw_vehicle(Scene *s, const Obj *o) {
  Shader face = o->kind == OBJ_BUS ? bus_face : o->kind == OBJ_TRUCK ? truck_face : car_face;
  Shader side = o->kind == OBJ_BUS ? bus_side : o->kind == OBJ_TRUCK ? truck_side : car_side;
  double hw = o->w / 2;
  if (o->X + hw < 0) draw_side(s, o, o->X + hw, o->Z, o->Z + o->len, o->h, side);
  if (o->X - hw > 0) draw_side(s, o, o->X - hw, o->Z, o->Z + o->len, o->h, side);
  draw_frontal(s, o, o->Z, -hw, hw, 0, o->h, face);
}

static void draw_object(Scene *s, const Obj *o) {
  switch (o->kind) {
  case OBJ_CAR:
  case OBJ_BUS:
  case OBJ_TRUCK: draw_vehicle(s, o); break;
  case OBJ_PERSON: draw_frontal(s, o, o->Z, -0.6, 0.6, 0, o->h, person); break;
  case OBJ_CYCLIST:
  case OBJ_BICYCLE: draw_frontal(s, o, o->Z, -1.0, 1.0, 0, 1.8, cyclist); break;
  case OBJ_POLE: {
    double reach = fabs(o->p[3]) + 0.5;
    draw_frontal(s, o, o->Z, -reach, reach, 0, o->h + 0.6, pole);
    break;
  }
  case OBJ_TREE: draw_frontal(s, o, o->Z, -o->p[1] * 1.1, o->p[1] * 1.1, 0, o->p[0] + 2 * o->p[2], tree); break;
  default: break;
  }
}

/* Far to near; ties keep placement order. */
static int by_depth_desc(const void *a, const void *b) {
  const Obj *const *x = a, *const *y = b;
  if ((*x)->Z != (*y)->Z) return (*x)->Z < (*y)->Z ? 1 : -1;
  return *x < *y ? -1 : *x > *y;
}

void synth_draw_objects(Scene *s) {
  const Obj *order[SYNTH_MAX_OBJS];
  for (int i = 0; i < s->nobjs; i++) order[i] = &s->objs[i];
  qsort(order, (size_t)s->nobjs, sizeof order[0], by_depth_desc);
  for (int i = 0; i < s->nobjs; i++) draw_object(s, order[i]);
}
