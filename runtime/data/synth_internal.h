/* synth_internal.h - private to the synthetic street-scene generator (synth_scene.c,
   synth_materials.c, synth_objects.c): the scene description (camera, street layout, rows of facades, materials,
   lighting), the objects placed in it, random numbers and value noise. Include synth.h instead.

   World coordinates, in metres: X to the right, Y up from the ground, Z forward (depth). The camera
   sits at (0, cam_h, 0) and looks along +Z; a point projects to column cx + f*X/Z and row
   cy + f*(cam_h - Y)/Z, so (cx, cy) is the vanishing point of the street and cy the horizon. */
#ifndef SQN_SYNTH_INTERNAL_H
#define SQN_SYNTH_INTERNAL_H
#include <math.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

/* The Cityscapes train ids (cityscapes.h names them). */
enum {
  T_ROAD, T_SIDEWALK, T_BUILDING, T_WALL, T_FENCE, T_POLE, T_LIGHT, T_SIGN, T_VEGETATION, T_TERRAIN,
  T_SKY, T_PERSON, T_RIDER, T_CAR, T_TRUCK, T_BUS, T_TRAIN, T_MOTORCYCLE, T_BICYCLE, T_IGNORE = 255
};

typedef struct {
  float r, g, b;
} Rgb;

static inline double dmin(double a, double b) { return a < b ? a : b; }
static inline double dmax(double a, double b) { return a > b ? a : b; }
static inline double sq(double x) { return x * x; }
static inline double clampd(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }
/* a mod m in [0, m) for m > 0. */
static inline double fmod_pos(double a, double m) { return a - m * floor(a / m); }

static inline Rgb rgb(double r, double g, double b) { return (Rgb){(float)r, (float)g, (float)b}; }
static inline Rgb rgb_scale(Rgb c, double k) { return rgb(c.r * k, c.g * k, c.b * k); }
static inline Rgb rgb_mix(Rgb a, Rgb b, double t) {
  return rgb(a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t);
}
static inline Rgb rgb_add(Rgb c, double d) { return rgb(c.r + d, c.g + d, c.b + d); }

/* ---- random numbers: splitmix64, seeded from (seed, index) ---- */

typedef struct {
  uint64_t s;
} Rng;

static inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
static inline uint64_t rng_next(Rng *r) { return mix64(r->s += 0x9e3779b97f4a7c15ull); }
static inline double rng_u01(Rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }
static inline double rng_range(Rng *r, double lo, double hi) { return lo + (hi - lo) * rng_u01(r); }
static inline int rng_int(Rng *r, int lo, int hi) { return lo + (int)(rng_next(r) % (uint64_t)(hi - lo + 1)); }
static inline bool rng_chance(Rng *r, double p) { return rng_u01(r) < p; }

/* ---- hashing and value noise (textures in world coordinates, pixel noise) ---- */

static inline uint32_t hash3(uint32_t key, int32_t x, int32_t y) {
  uint32_t h = key ^ ((uint32_t)x * 0x27d4eb2du) ^ ((uint32_t)y * 0x165667b1u);
  h ^= h >> 15, h *= 0x2c1b3c6du;
  h ^= h >> 12, h *= 0x297a2d39u;
  return h ^ (h >> 15);
}
/* A hash of (key, x, y) in [0, 1). */
static inline float hash01(uint32_t key, int32_t x, int32_t y) { return (float)(hash3(key, x, y) >> 8) * 0x1.0p-24f; }

/* Smooth value noise in [0, 1) with unit cells. */
static inline float vnoise(uint32_t key, double x, double y) {
  double fx = floor(x), fy = floor(y);
  int32_t ix = (int32_t)fx, iy = (int32_t)fy;
  float tx = (float)(x - fx), ty = (float)(y - fy);
  tx = tx * tx * (3 - 2 * tx), ty = ty * ty * (3 - 2 * ty);
  float a = hash01(key, ix, iy), b = hash01(key, ix + 1, iy);
  float c = hash01(key, ix, iy + 1), d = hash01(key, ix + 1, iy + 1);
  return (a + (b - a) * tx) + ((c + (d - c) * tx) - (a + (b - a) * tx)) * ty;
}
/* Two octaves of value noise, in [0, 1). */
static inline float fbm2(uint32_t key, double x, double y) {
  return 0.62f * vnoise(key, x, y) + 0.38f * vnoise(key + 101u, x * 2.3 + 17.1, y * 2.3 + 5.3);
}

/* ---- the static scene: the street and the rows of facades along it ---- */

enum { SEG_OPEN, SEG_BUILDING, SEG_VEGETATION, SEG_WALL, SEG_FENCE };

/* The look of a building facade; u runs along the facade, v up, both in metres. */
typedef struct {
  Rgb wall, glass, frame, trim, shop;
  double floor_h, win_w, win_h, sill, spacing, phase;
  int style;     /* 0 plaster, 1 brick, 2 concrete panels, 3 glass curtain wall */
  bool shop_floor; /* a ground floor of shop windows */
  uint32_t key;
} Facade;

/* A stretch [a0, a1) of a row (along Z for the side rows, along X for the far row). */
typedef struct {
  int type;      /* SEG_* */
  double a0, a1, height;
  Facade fac;    /* SEG_BUILDING */
  Rgb color;     /* vegetation, wall or fence colour */
  int ground;    /* train id of the ground seen behind an open, fence or wall segment */
  int variant;   /* fence: 0 wire mesh, 1 metal bars, 2 wooden planks */
  uint32_t key;  /* texture noise */
} Segment;

#define SYNTH_MAX_SEGS 40
typedef struct {
  Segment seg[SYNTH_MAX_SEGS];
  int n;
  double plane; /* X of a side row, Z of the far row */
  double light; /* brightness of its facades */
} Row;

/* A darkened rectangle of ground (an object's shadow), X0..X1 x Z0..Z1. */
typedef struct {
  double X0, X1, Z0, Z1, dark;
} GroundShadow;

/* ---- objects ---- */

enum { OBJ_CAR, OBJ_BUS, OBJ_TRUCK, OBJ_PERSON, OBJ_CYCLIST, OBJ_BICYCLE, OBJ_POLE, OBJ_TREE };
enum { POLE_PLAIN, POLE_LAMP, POLE_SIGN, POLE_LIGHT, POLE_OVERHEAD };

typedef struct {
  int kind;          /* OBJ_* */
  double X, Z;       /* centre X and nearest Z */
  double w, h, len;  /* width, height, length (m) */
  bool front;        /* vehicles: the front faces the camera (oncoming); persons: facing it */
  int variant;       /* pose, pole type, sign shape, ... */
  int dir;           /* +1 / -1: which way a side view faces */
  double p[4];       /* kind-specific sizes (sign height, arm length, stride, ...) */
  Rgb c[4];          /* kind-specific colours */
  uint32_t key;
} Obj;

#define SYNTH_MAX_OBJS 160
#define SYNTH_MAX_SHADOWS 64

typedef struct {
  /* image and camera */
  int h, w;
  unsigned char *rgb, *ids;
  double f, cx, cy, cam_h;
  uint32_t key;
  /* street layout (X of the edges; left < 0 < right) */
  double road_l, road_r, lane_w;
  int lanes;
  double walk_l, walk_r;   /* outer edges of the sidewalks */
  double front_l, front_r; /* the building lines */
  double z_end;            /* the far row of facades */
  bool cross;              /* a cross street at Z in [cross_z0, cross_z1] */
  double cross_z0, cross_z1, cross_walk;
  bool zebra;
  double zebra_z0;
  bool edge_lines;
  Row side[2][2]; /* [left, right][front, back] */
  Row far;
  /* materials */
  Rgb asphalt, walk, curb, terrain, dirt, marking;
  double tile, walk_pattern;
  Rgb palette[6]; /* the facade colours of this scene, reused for some cars */
  /* sky and lighting */
  Rgb sky_top, sky_horizon, cloud;
  double cloudiness;
  int sun_side; /* -1 none, 0 left buildings shade the street, 1 right */
  double shadow_k, shadow_dark;
  GroundShadow shadows[SYNTH_MAX_SHADOWS];
  int nshadows;
  /* objects */
  Obj objs[SYNTH_MAX_OBJS];
  int nobjs;
} Scene;

/* Writes pixel (x, y): colour (rounded, clamped) and train id. */
static inline void synth_put_pixel(Scene *s, int x, int y, Rgb c, int id) {
  unsigned char *p = s->rgb + 3 * ((size_t)y * (size_t)s->w + (size_t)x);
  p[0] = (unsigned char)clampd(c.r + 0.5, 0, 255);
  p[1] = (unsigned char)clampd(c.g + 0.5, 0, 255);
  p[2] = (unsigned char)clampd(c.b + 0.5, 0, 255);
  s->ids[(size_t)y * (size_t)s->w + (size_t)x] = (unsigned char)id;
}

/* Random colour noise, and a gray. */
static inline Rgb jitter(Rng *r, Rgb c, double amount) {
  return rgb(c.r + rng_range(r, -amount, amount), c.g + rng_range(r, -amount, amount),
             c.b + rng_range(r, -amount, amount));
}
static inline Rgb gray(double v) { return rgb(v, v, v); }

/* synth_materials.c: the scene's palette, materials and sky, and their shading. */
void synth_choose_palette(Scene *s, Rng *r);
void synth_choose_materials(Scene *s, Rng *r);
void synth_choose_sky(Scene *s, Rng *r);
Rgb synth_shade_facade(const Facade *f, double u, double v, double height);
Rgb synth_shade_foliage(uint32_t key, Rgb base, double u, double v);
/* The sky at row y without clouds, and with the clouds at (x, y). */
Rgb synth_sky_gradient(const Scene *s, int y);
Rgb synth_sky_clouds(const Scene *s, Rgb gradient, int x, int y);
void synth_random_facade(Scene *s, Rng *r, Facade *f);

/* synth_objects.c: chooses the objects (and adds their ground shadows), then draws them. */
void synth_place_objects(Scene *s, Rng *r);
void synth_draw_objects(Scene *s);

#endif
