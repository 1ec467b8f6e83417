/* synth_scene.c - the synthetic street scene of synth.h: draws a random camera, street layout
   (road, lanes, sidewalks, terrain strips, an optional cross street and zebra crossing), rows of
   facades along both sides and across the far end (buildings with windows, vegetation, walls,
   fences, gaps), materials, sky and lighting; ray-casts the static scene per pixel (ground plane,
   side rows, far row, sky); lets synth_objects.c add the objects; and finishes with the camera:
   brightness, colour cast, vignetting and pixel noise. Everything derives from (seed, index). */
#include <string.h>
#include "synth.h"
#include "synth_internal.h"

/* ---- layout ---- */

static void choose_camera(Scene *s, Rng *r) {
  s->f = s->w * rng_range(r, 0.55, 1.05);
  s->cx = s->w * rng_range(r, 0.3, 0.7);
  s->cy = s->h * rng_range(r, 0.36, 0.52);
  s->cam_h = rng_range(r, 1.15, 1.8);
}

static void choose_street(Scene *s, Rng *r) {
  s->lanes = rng_int(r, 2, 4);
  s->lane_w = rng_range(r, 2.8, 3.6);
  int cam_lane = rng_int(r, s->lanes / 2, s->lanes - 1);
  s->road_l = -(cam_lane + 0.5) * s->lane_w + rng_range(r, -0.4, 0.4);
  s->road_r = s->road_l + s->lanes * s->lane_w;
  s->walk_l = s->road_l - rng_range(r, 1.5, 5.0);
  s->walk_r = s->road_r + rng_range(r, 1.5, 5.0);
  s->front_l = s->walk_l - (rng_chance(r, 0.35) ? rng_range(r, 1.0, 5.0) : 0);
  s->front_r = s->walk_r + (rng_chance(r, 0.35) ? rng_range(r, 1.0, 5.0) : 0);
  s->z_end = exp(rng_range(r, log(45.0), log(300.0)));
  s->cross = rng_chance(r, 0.45);
  if (s->cross) {
    s->cross_z0 = rng_range(r, 12, dmin(70, s->z_end * 0.7));
    s->cross_z1 = s->cross_z0 + rng_range(r, 9, 16);
    s->cross_walk = rng_range(r, 1.5, 3.0);
  }
  s->zebra = s->cross ? rng_chance(r, 0.7) : rng_chance(r, 0.2);
  s->zebra_z0 = s->cross ? s->cross_z0 - 4.0 : rng_range(r, 8, 40);
  s->edge_lines = rng_chance(r, 0.6);
}

static Segment *add_segment(Row *row, int type, double a0, double a1) {
  if (row->n >= SYNTH_MAX_SEGS) return NULL;
  Segment *g = &row->seg[row->n++];
  memset(g, 0, sizeof *g);
  g->type = type, g->a0 = a0, g->a1 = a1;
  g->ground = T_TERRAIN;
  return g;
}

static Rgb vegetation_color(Rng *r) {
  double pick = rng_u01(r);
  if (pick < 0.55) return rgb(rng_range(r, 55, 95), rng_range(r, 85, 130), rng_range(r, 30, 65));
  if (pick < 0.85) return rgb(rng_range(r, 30, 55), rng_range(r, 55, 85), rng_range(r, 28, 48));
  return rgb(rng_range(r, 125, 165), rng_range(r, 105, 130), rng_range(r, 40, 65));
}

/* Fills segment g (already typed) with its height, colours and textures. */
static void fill_segment(Scene *s, Rng *r, Segment *g, double height_scale) {
  g->key = (uint32_t)rng_next(r);
  switch (g->type) {
  case SEG_BUILDING:
    g->height = rng_range(r, 7, 35) * height_scale;
    synth_random_facade(s, r, &g->fac);
    break;
  case SEG_VEGETATION:
    g->height = rng_range(r, 1.5, 10) * height_scale;
    g->color = vegetation_color(r);
    break;
  case SEG_WALL:
    g->height = rng_range(r, 0.8, 3.0);
    g->color = rng_chance(r, 0.5) ? jitter(r, s->palette[rng_int(r, 0, 5)], 15) : gray(rng_range(r, 90, 190));
    break;
  case SEG_FENCE:
    g->height = rng_range(r, 1.0, 2.5);
    g->variant = rng_int(r, 0, 2);
    g->color = g->variant == 2 ? rgb(rng_range(r, 100, 150), rng_range(r, 75, 105), rng_range(r, 50, 70))
                               : jitter(r, gray(rng_range(r, 50, 170)), 15);
    break;
  default: break;
  }
  if (g->type != SEG_BUILDING) g->ground = rng_chance(r, 0.6) ? T_TERRAIN : T_SIDEWALK;
}

/* The front row of one side: buildings, vegetation, walls, fences and gaps; the cross street is a gap. */
static void build_front_row(Scene *s, Rng *r, Row *row) {
  double urban = rng_range(r, 0.3, 0.9);
  double z = rng_range(r, -20, 0);
  while (z < s->z_end && row->n < SYNTH_MAX_SEGS - 2) {
    if (s->cross && z >= s->cross_z0 - 0.5 && z < s->cross_z1) {
      Segment *g = add_segment(row, SEG_OPEN, z, s->cross_z1);
      g->ground = T_ROAD;
      z = s->cross_z1;
      continue;
    }
    double pick = rng_u01(r), len;
    int type = pick < urban ? SEG_BUILDING : pick < urban + 0.12 ? SEG_VEGETATION : pick < urban + 0.19 ? SEG_WALL
               : pick < urban + 0.27 ? SEG_FENCE : SEG_OPEN;
    len = type == SEG_BUILDING ? rng_range(r, 8, 30) : rng_range(r, 4, 20);
    double a1 = z + len;
    if (s->cross && z < s->cross_z0 - 0.5 && a1 > s->cross_z0 - 0.5) a1 = s->cross_z0 - 0.5;
    Segment *g = add_segment(row, type, z, a1);
    fill_segment(s, r, g, 1.0);
    z = a1;
  }
}

/* The back row of one side (seen through gaps): tall buildings or tree lines, always solid. */
static void build_back_row(Scene *s, Rng *r, Row *row) {
  double z = -20;
  while (z < s->z_end && row->n < SYNTH_MAX_SEGS) {
    Segment *g = add_segment(row, rng_chance(r, 0.65) ? SEG_BUILDING : SEG_VEGETATION, z, z + rng_range(r, 10, 40));
    fill_segment(s, r, g, 1.3);
    if (g->type == SEG_VEGETATION) g->height = dmax(g->height, 5);
    z = g->a1;
  }
}

/* The row across the far end of the street, along X. */
static void build_far_row(Scene *s, Rng *r) {
  Row *row = &s->far;
  row->plane = s->z_end;
  row->light = rng_range(r, 0.7, 1.05);
  double x = -s->z_end * 2.5;
  while (x < s->z_end * 2.5 && row->n < SYNTH_MAX_SEGS) {
    double pick = rng_u01(r);
    int type = pick < 0.55 ? SEG_BUILDING : pick < 0.8 ? SEG_VEGETATION : SEG_OPEN;
    Segment *g = add_segment(row, type, x, x + rng_range(r, 6, 30) * (1 + s->z_end / 150));
    fill_segment(s, r, g, 1.0);
    if (type == SEG_VEGETATION) g->height = dmax(g->height, 4);
    x = g->a1;
  }
}

static void build_rows(Scene *s, Rng *r) {
  bool overcast = s->sun_side < 0;
  for (int side = 0; side < 2; side++) {
    Row *front = &s->side[side][0], *back = &s->side[side][1];
    front->plane = side ? s->front_r : s->front_l;
    back->plane = front->plane + (side ? 1 : -1) * rng_range(r, 6, 25);
    bool sunny = !overcast && s->sun_side != side; /* the facades facing the sun */
    front->light = overcast ? rng_range(r, 0.75, 1.0) : sunny ? rng_range(r, 1.0, 1.15) : rng_range(r, 0.5, 0.8);
    back->light = front->light * rng_range(r, 0.85, 1.0);
    build_front_row(s, r, front);
    build_back_row(s, r, back);
  }
  build_far_row(s, r);
}

static void choose_lighting(Scene *s, Rng *r) {
  s->sun_side = rng_chance(r, 0.35) ? -1 : rng_int(r, 0, 1);
  s->shadow_k = rng_range(r, 0.15, 1.0);
  s->shadow_dark = rng_range(r, 0.45, 0.7);
}

/* ---- ray casting of the static scene ---- */

/* The segment of row covering a (segments are contiguous and sorted), or NULL. */
static const Segment *row_find(const Row *row, double a) {
  int lo = 0, hi = row->n - 1;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    if (a < row->seg[mid].a0) hi = mid - 1;
    else if (a >= row->seg[mid].a1) lo = mid + 1;
    else return &row->seg[mid];
  }
  return NULL;
}

static bool fence_solid(const Segment *g, double u, double v) {
  if (v > g->height - 0.06 || (v > 0.1 && v < 0.16) || fmod_pos(u, 2.5) < 0.08) return true; /* rails, posts */
  switch (g->variant) {
  case 0: return fmod_pos(u + v, 0.16) < 0.025 || fmod_pos(u - v, 0.16) < 0.025; /* wire mesh */
  case 1: return fmod_pos(u, 0.13) < 0.03;                                        /* bars */
  default: return fmod_pos(u, 0.12) < 0.1;                                        /* planks */
  }
}

/* Whether segment g is solid at (u along the row, height v); if so its colour and class. */
static bool segment_hit(const Segment *g, double u, double v, double light, Rgb *c, int *id) {
  if (v < 0 || v > g->height) return false;
  switch (g->type) {
  case SEG_BUILDING:
    *c = rgb_scale(synth_shade_facade(&g->fac, u, v, g->height), light), *id = T_BUILDING;
    return true;
  case SEG_VEGETATION:
    if (v > g->height * (0.7 + 0.3 * vnoise(g->key, u * 0.45, 0.5))) return false;
    *c = rgb_scale(synth_shade_foliage(g->key, g->color, u, v), light), *id = T_VEGETATION;
    return true;
  case SEG_WALL:
    *c = rgb_scale(g->color, light * (v > g->height - 0.12 ? 1.15 : 0.85 + 0.3 * fbm2(g->key, u * 1.5, v * 1.5)));
    *id = T_WALL;
    return true;
  case SEG_FENCE:
    if (!fence_solid(g, u, v)) return false;
    *c = rgb_scale(g->color, light * (0.8 + 0.3 * hash01(g->key, (int32_t)floor(u * 8), 0))), *id = T_FENCE;
    return true;
  default: return false;
  }
}

typedef struct {
  double z;
  Rgb c;
  int id;
} Hit;

/* What is constant along one image column: where its ray meets the planes of the side rows (front
   and back row of the side it looks at) and of the far row, and the segments it meets there. */
typedef struct {
  double z[2];             /* depth at the front and back row; INFINITY where it misses */
  const Segment *seg[2];
  const Row *row[2];
  double far_X;            /* X where the ray meets the far row */
  const Segment *far_seg;
} Column;

static void column_setup(const Scene *s, double dx, Column *c) {
  int side = dx > 0;
  for (int layer = 0; layer < 2; layer++) {
    const Row *row = &s->side[side][layer];
    double z = dx != 0 ? row->plane / dx : -1;
    bool ok = z > 0 && z < s->z_end;
    c->z[layer] = ok ? z : INFINITY;
    c->seg[layer] = ok ? row_find(row, z) : NULL;
    c->row[layer] = row;
  }
  c->far_X = dx * s->far.plane;
  c->far_seg = row_find(&s->far, c->far_X);
}

/* The nearest solid facade along the ray of column c at vertical slope dy: the front row, the back
   row behind its gaps, then the far row. */
static void trace_rows(const Scene *s, const Column *c, double dy, Hit *hit) {
  for (int layer = 0; layer < 2; layer++) {
    double z = c->z[layer];
    if (c->seg[layer] && segment_hit(c->seg[layer], z, s->cam_h - dy * z, c->row[layer]->light, &hit->c, &hit->id)) {
      hit->z = z;
      return;
    }
  }
  double z = s->far.plane;
  if (c->far_seg && segment_hit(c->far_seg, c->far_X, s->cam_h - dy * z, s->far.light, &hit->c, &hit->id)) hit->z = z;
}

/* Lane lines (dashed), edge lines, the zebra crossing and its stop line. */
static bool road_marking(const Scene *s, double X, double Z) {
  if (s->zebra && X > s->road_l + 0.3 && X < s->road_r - 0.3) {
    if (Z > s->zebra_z0 && Z < s->zebra_z0 + 3.5) return fmod_pos(X - s->road_l, 1.0) < 0.5;
    if (Z > s->zebra_z0 - 0.7 && Z < s->zebra_z0 - 0.4) return true;
  }
  if (s->edge_lines && (fabs(X - s->road_l - 0.3) < 0.07 || fabs(X - s->road_r + 0.3) < 0.07)) return true;
  for (int k = 1; k < s->lanes; k++)
    if (fabs(X - (s->road_l + k * s->lane_w)) < 0.075) return fmod_pos(Z + (s->key & 7), 9.0) < 3.0;
  return false;
}

static Rgb shade_road(const Scene *s, double X, double Z) {
  double grain = hash01(s->key + 11u, (int32_t)floor(X * 18), (int32_t)floor(Z * 18)) - 0.5;
  Rgb c = rgb_add(s->asphalt, grain * 20);
  if (vnoise(s->key + 12u, X * 0.35, Z * 0.12) > 0.72) c = rgb_scale(c, 0.84); /* repairs, stains */
  double lane_pos = fmod_pos(X - s->road_l, s->lane_w) / s->lane_w;
  if (fabs(lane_pos - 0.5) > 0.2 && fabs(lane_pos - 0.5) < 0.35) c = rgb_scale(c, 0.93); /* tyre tracks */
  if (X >= s->road_l && X <= s->road_r && road_marking(s, X, Z) &&
      vnoise(s->key + 13u, X * 4, Z * 2) > 0.2)
    c = rgb_scale(s->marking, 0.88 + 0.25 * grain);
  return c;
}

static Rgb shade_walk(const Scene *s, double X, double Z, double from_curb) {
  double grain = hash01(s->key + 14u, (int32_t)floor(X * 20), (int32_t)floor(Z * 20)) - 0.5;
  if (from_curb < 0.22) return rgb_add(s->curb, grain * 14);
  Rgb c = rgb_add(s->walk, grain * 16);
  if (s->walk_pattern < 0.75) {
    double tu = X / s->tile, tv = Z / s->tile;
    if (tu - floor(tu) < 0.06 || tv - floor(tv) < 0.06) return rgb_scale(c, 0.78);
    c = rgb_add(c, (hash01(s->key + 15u, (int32_t)floor(tu), (int32_t)floor(tv)) - 0.5) * 18);
  }
  return rgb_scale(c, 0.9 + 0.2 * vnoise(s->key + 16u, X * 0.3, Z * 0.3));
}

static Rgb shade_terrain(const Scene *s, double X, double Z) {
  double grain = hash01(s->key + 17u, (int32_t)floor(X * 25), (int32_t)floor(Z * 25)) - 0.5;
  Rgb c = rgb_scale(s->terrain, 0.7 + 0.5 * fbm2(s->key + 18u, X * 1.3, Z * 1.3));
  double d = vnoise(s->key + 19u, X * 0.2, Z * 0.2);
  if (d > 0.68) c = rgb_mix(c, s->dirt, dmin(1.0, (d - 0.68) * 6));
  return rgb_add(c, grain * 26);
}

/* What is constant along one image row of the ground: its depth, the front-row segments at that
   depth (the ground behind them), the sun side's shadow line, and the object shadows it crosses. */
typedef struct {
  double z;
  const Segment *front[2];
  bool sun_shadow;
  double shadow_line; /* X of the edge of the buildings' shadow */
  const GroundShadow *shadows[SYNTH_MAX_SHADOWS];
  int nshadows;
} GroundRow;

static void ground_row(const Scene *s, double z, GroundRow *g) {
  g->z = z;
  for (int side = 0; side < 2; side++) g->front[side] = row_find(&s->side[side][0], z);
  g->sun_shadow = false;
  if (s->sun_side >= 0) {
    const Segment *seg = g->front[s->sun_side];
    if (seg && seg->type != SEG_OPEN) {
      double reach = seg->height * s->shadow_k;
      g->sun_shadow = true;
      g->shadow_line = s->sun_side == 0 ? s->side[0][0].plane + reach : s->side[1][0].plane - reach;
    }
  }
  g->nshadows = 0;
  for (int i = 0; i < s->nshadows; i++)
    if (z >= s->shadows[i].Z0 && z <= s->shadows[i].Z1) g->shadows[g->nshadows++] = &s->shadows[i];
}

/* The ground at X on ground row g: class and colour before shadows. */
static int shade_ground(const Scene *s, const GroundRow *g, double X, Rgb *c) {
  double Z = g->z;
  if (X >= s->road_l && X <= s->road_r) return *c = shade_road(s, X, Z), T_ROAD;
  int side = X > s->road_r;
  double out = side ? X - s->road_r : s->road_l - X;
  double walk_w = side ? s->walk_r - s->road_r : s->road_l - s->walk_l;
  double front_w = side ? s->front_r - s->road_r : s->road_l - s->front_l;
  if (s->cross && Z >= s->cross_z0 && Z < s->cross_z1) {
    double d = dmin(Z - s->cross_z0, s->cross_z1 - Z);
    if (out > walk_w && d < s->cross_walk) return *c = shade_walk(s, X, Z, s->cross_walk - d), T_SIDEWALK;
    return *c = shade_road(s, X, Z), T_ROAD;
  }
  if (out <= walk_w) return *c = shade_walk(s, X, Z, out), T_SIDEWALK;
  if (out > front_w && g->front[side] && g->front[side]->ground == T_SIDEWALK)
    return *c = shade_walk(s, X, Z, 1.0), T_SIDEWALK;
  return *c = shade_terrain(s, X, Z), T_TERRAIN;
}

/* The shade of the sun side's buildings, and the objects' shadows, at X on ground row g. */
static double ground_light(const Scene *s, const GroundRow *g, double X) {
  double k = 1.0;
  if (g->sun_shadow && (s->sun_side == 0 ? X < g->shadow_line : X > g->shadow_line)) k = s->shadow_dark;
  for (int i = 0; i < g->nshadows; i++)
    if (X >= g->shadows[i]->X0 && X <= g->shadows[i]->X1) k *= g->shadows[i]->dark;
  return k;
}

/* Ray-casts the static scene (rows of facades, ground, sky) in tiles of columns, so that what is
   constant per column and per row is computed once, without any allocation. */
static void render_static(Scene *s) {
  enum { TILE = 256 };
  Column cols[TILE];
  GroundRow g = {0};
  for (int x0 = 0; x0 < s->w; x0 += TILE) {
    int n = s->w - x0 < TILE ? s->w - x0 : TILE;
    for (int i = 0; i < n; i++) column_setup(s, (x0 + i + 0.5 - s->cx) / s->f, &cols[i]);
    for (int y = 0; y < s->h; y++) {
      double dy = (y + 0.5 - s->cy) / s->f, zg = dy > 0 ? s->cam_h / dy : INFINITY;
      if (dy > 0) ground_row(s, zg, &g);
      Rgb sky = synth_sky_gradient(s, y);
      for (int i = 0; i < n; i++) {
        Hit hit = {INFINITY, {0, 0, 0}, T_SKY};
        trace_rows(s, &cols[i], dy, &hit);
        if (zg < hit.z) {
          double X = (x0 + i + 0.5 - s->cx) / s->f * zg;
          hit.id = shade_ground(s, &g, X, &hit.c);
          hit.c = rgb_scale(hit.c, ground_light(s, &g, X));
        }
        if (hit.id == T_SKY) hit.c = synth_sky_clouds(s, sky, x0 + i, y);
        synth_put_pixel(s, x0 + i, y, hit.c, hit.id);
      }
    }
  }
}

/* ---- the camera ---- */

/* The hood of the car carrying the camera, at the bottom of some images: ignored (255). */
static void draw_ego_hood(Scene *s, Rng *r) {
  if (!rng_chance(r, 0.3)) return;
  double top = s->h * (1 - rng_range(r, 0.05, 0.13)), bulge = s->h * rng_range(r, 0.01, 0.04);
  Rgb paint = rgb_scale(gray(rng_range(r, 20, 70)), 1), sky = s->sky_horizon;
  for (int x = 0; x < s->w; x++) {
    double t = (x + 0.5) / s->w * 2 - 1, edge = top + bulge * t * t;
    for (int y = (int)ceil(edge); y < s->h; y++) {
      double refl = 0.35 * exp(-(y - edge) / (0.02 * s->h + 1));
      synth_put_pixel(s, x, y, rgb_mix(paint, sky, refl), T_IGNORE);
    }
  }
}

/* Exposure, colour cast, vignetting and sensor noise over the whole image. */
static void apply_camera(Scene *s, Rng *r) {
  double exposure = rng_range(r, 0.55, 1.3), gain[3], sigma = rng_range(r, 1.5, 7.0) / 255;
  double vignette = rng_range(r, 0, 0.35);
  for (int c = 0; c < 3; c++) gain[c] = exposure * rng_range(r, 0.88, 1.12);
  uint32_t key = s->key + 99u;
  for (int y = 0; y < s->h; y++) {
    double ny = (y + 0.5) / s->h * 2 - 1;
    unsigned char *p = s->rgb + 3 * (size_t)y * (size_t)s->w;
    for (int x = 0; x < s->w; x++, p += 3) {
      double nx = (x + 0.5) / s->w * 2 - 1, fall = 1 - vignette * 0.5 * (nx * nx + ny * ny);
      uint32_t bits = hash3(key, x, y); /* four noise bytes: two for luminance, one per channel pair */
      double luma = ((double)(bits & 255) + (double)((bits >> 8) & 255) - 255) * sigma * 1.7;
      double chroma[3] = {((double)((bits >> 16) & 255) - 127.5) * sigma * 0.5,
                          ((double)(bits >> 24) - 127.5) * sigma * 0.5, 0};
      chroma[2] = -chroma[0] - chroma[1];
      for (int c = 0; c < 3; c++) p[c] = (unsigned char)clampd(p[c] * gain[c] * fall + luma + chroma[c] + 0.5, 0, 255);
    }
  }
}

void synth_render(uint64_t seed, int index, int h, int w, unsigned char *rgb_out, unsigned char *train_ids) {
  if (h <= 0 || w <= 0 || !rgb_out || !train_ids) return;
  Scene scene; /* about 60 KB: on the stack, so that rendering cannot fail */
  Scene *s = &scene;
  memset(s, 0, sizeof *s);
  Rng r = {mix64(seed ^ mix64((uint64_t)(uint32_t)index + 0x5EEDull))};
  s->h = h, s->w = w, s->rgb = rgb_out, s->ids = train_ids;
  s->key = (uint32_t)rng_next(&r);
  choose_camera(s, &r);
  choose_street(s, &r);
  synth_choose_sky(s, &r);
  synth_choose_palette(s, &r);
  synth_choose_materials(s, &r);
  choose_lighting(s, &r);
  build_rows(s, &r);
  synth_place_objects(s, &r);
  render_static(s);
  synth_draw_objects(s);
  draw_ego_hood(s, &r);
  apply_camera(s, &r);
}
