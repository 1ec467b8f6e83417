/* synth_materials.c - the looks of a synthetic street scene (synth_internal.h): facade, window, stone
   and foliage colours and their textures, the scene's palette, the sky's gradient and clouds. Used by
   synth_scene.c (the static scene) and synth_objects.c (trees, objects in front of facades). */
#include <math.h>
#include <string.h>
#include "synth_internal.h"

/* Facade colours of one scene: plaster, stone and concrete tones, some dark, some tinted. */
void synth_choose_palette(Scene *s, Rng *r) {
  static const float tones[][3] = {{228, 218, 196}, {206, 184, 152}, {214, 214, 208}, {172, 170, 164},
                                   {204, 164, 106}, {212, 172, 160}, {232, 212, 152}, {96, 94, 92},
                                   {132, 142, 152}, {122, 92, 72},   {184, 120, 96},  {150, 160, 140}};
  int ntones = (int)(sizeof tones / sizeof tones[0]);
  for (int i = 0; i < 6; i++) {
    const float *t = tones[rng_int(r, 0, ntones - 1)];
    s->palette[i] = rgb_scale(jitter(r, rgb(t[0], t[1], t[2]), 18), rng_range(r, 0.7, 1.05));
  }
}

void synth_random_facade(Scene *s, Rng *r, Facade *f) {
  memset(f, 0, sizeof *f);
  double pick = rng_u01(r);
  f->style = pick < 0.45 ? 0 : pick < 0.65 ? 1 : pick < 0.9 ? 2 : 3;
  f->wall = jitter(r, s->palette[rng_int(r, 0, 5)], 12);
  if (f->style == 1) f->wall = rgb(rng_range(r, 115, 175), rng_range(r, 55, 90), rng_range(r, 40, 70));
  double dark = rng_range(r, 25, 70);
  Rgb tint = rgb(dark * 0.9, dark, dark * rng_range(r, 1.0, 1.35));
  f->glass = rng_chance(r, 0.4) ? rgb_mix(s->sky_horizon, tint, rng_range(r, 0.3, 0.7)) : tint;
  double frame = rng_u01(r);
  f->frame = frame < 0.45 ? gray(rng_range(r, 195, 235)) : frame < 0.75 ? gray(rng_range(r, 35, 75))
                                                                       : rgb_scale(f->wall, 0.75);
  f->trim = rgb_scale(f->wall, rng_range(r, 0.7, 1.2));
  f->shop = rng_chance(r, 0.5) ? jitter(r, gray(rng_range(r, 40, 120)), 25) : jitter(r, f->wall, 40);
  f->floor_h = rng_range(r, 2.8, 3.6);
  f->win_w = rng_range(r, 0.9, 1.8);
  f->win_h = rng_range(r, 1.2, f->floor_h - 1.0);
  f->sill = rng_range(r, 0.6, f->floor_h - f->win_h - 0.2);
  f->spacing = f->win_w + rng_range(r, 0.8, 2.6);
  if (f->style == 3) {
    f->spacing = rng_range(r, 1.2, 2.0), f->win_w = f->spacing - 0.12;
    f->sill = 0.1, f->win_h = f->floor_h - 0.35;
  }
  f->phase = rng_range(r, 0, 10);
  f->shop_floor = rng_chance(r, 0.5);
  f->key = (uint32_t)rng_next(r);
}

/* Brick courses, concrete panel seams or plain plaster blotches. */
static Rgb facade_surface(const Facade *f, double u, double v) {
  Rgb c = rgb_scale(f->wall, 0.88 + 0.24 * vnoise(f->key, u * 1.7, v * 1.7));
  if (f->style == 1) {
    double course = floor(v / 0.075);
    double bu = fmod_pos(u + (fmod_pos(course, 2) ? 0.12 : 0), 0.24);
    if (v - course * 0.075 < 0.012 || bu < 0.015) return rgb_scale(gray(178), 0.8 + 0.1 * (f->wall.r / 255));
    return rgb_scale(c, 0.9 + 0.2 * hash01(f->key, (int32_t)floor((u + bu) / 0.24), (int32_t)course));
  }
  if (f->style == 2 && (fmod_pos(v, f->floor_h) < 0.04 || fmod_pos(u + f->phase, 3.0) < 0.04))
    return rgb_scale(c, 0.7);
  return c;
}

/* The glass of window (col, row): dark or reflecting, sometimes lit, curtains, brighter higher up. */
static Rgb window_glass(const Facade *f, double fv, int col, int row) {
  float h = hash01(f->key + 5u, col, row);
  if (h < 0.06f) return rgb(220, 190, 120);
  Rgb c = rgb_scale(f->glass, 0.75 + 0.5 * (fv / (f->win_h + f->sill)));
  if (h > 0.85f) c = rgb_mix(c, rgb(200, 195, 180), 0.5);
  return c;
}

Rgb synth_shade_facade(const Facade *f, double u, double v, double height) {
  if (v > height - 0.45) return rgb_scale(f->trim, 0.9 + 0.1 * vnoise(f->key, u * 3, v * 3));
  double shop_top = f->floor_h * 1.25;
  if (f->shop_floor && v < shop_top) {
    if (v < 0.3 || v > shop_top - 0.35) return f->trim;
    double su = fmod_pos(u + f->phase, 5.0);
    if (su > 0.4 && su < 4.1) return rgb_scale(f->glass, 0.7 + 0.5 * v / shop_top);
    return f->shop;
  }
  int row = (int)floor(v / f->floor_h);
  double fv = v - row * f->floor_h, fu = fmod_pos(u + f->phase, f->spacing);
  if ((row >= 1 || !f->shop_floor) && v < height - 1.0) {
    if (fu < f->win_w && fv > f->sill && fv < f->sill + f->win_h) {
      double edge = dmin(dmin(fu, f->win_w - fu), dmin(fv - f->sill, f->sill + f->win_h - fv));
      if (edge < 0.07) return f->frame;
      if (f->style != 3 && fabs(fu - f->win_w / 2) < 0.03) return f->frame;
      return window_glass(f, fv, (int)floor((u + f->phase) / f->spacing), row);
    }
    if (fu > -0.05 && fu < f->win_w + 0.05 && fv > f->sill - 0.07 && fv <= f->sill) return f->trim;
  }
  return facade_surface(f, u, v);
}

Rgb synth_shade_foliage(uint32_t key, Rgb base, double u, double v) {
  float clumps = fbm2(key, u * 2.2, v * 2.2);
  float leaves = hash01(key + 7u, (int32_t)floor(u * 14), (int32_t)floor(v * 14));
  Rgb c = rgb_scale(base, 0.45 + 0.8 * clumps + 0.3 * (leaves - 0.5));
  c.r += (float)((vnoise(key + 3u, u * 0.4, v * 0.4) - 0.5) * 36);
  return c;
}

void synth_choose_materials(Scene *s, Rng *r) {
  double a = rng_range(r, 55, 125);
  s->asphalt = rgb(a + rng_range(r, -4, 6), a + rng_range(r, -3, 3), a + rng_range(r, -3, 8));
  double pick = rng_u01(r);
  if (pick < 0.65) s->walk = jitter(r, gray(a + rng_range(r, -15, 50)), 6); /* concrete, like the road */
  else if (pick < 0.85) s->walk = rgb(rng_range(r, 120, 170), rng_range(r, 85, 115), rng_range(r, 75, 100));
  else s->walk = rgb(rng_range(r, 150, 200), rng_range(r, 140, 180), rng_range(r, 110, 150));
  s->curb = rgb_scale(s->walk, rng_range(r, 0.8, 1.3));
  s->tile = rng_range(r, 0.25, 0.7);
  s->walk_pattern = rng_u01(r);
  double dry = rng_u01(r);
  s->terrain = rgb_mix(rgb(rng_range(r, 70, 110), rng_range(r, 100, 140), rng_range(r, 40, 70)),
                       rgb(150, 135, 90), dry * dry);
  s->dirt = rgb(rng_range(r, 110, 150), rng_range(r, 90, 115), rng_range(r, 60, 80));
  s->marking = rng_chance(r, 0.15) ? rgb(225, 190, 60) : gray(rng_range(r, 190, 240));
}

void synth_choose_sky(Scene *s, Rng *r) {
  double pick = rng_u01(r);
  if (pick < 0.45) { /* clear */
    s->sky_top = rgb(rng_range(r, 40, 110), rng_range(r, 100, 160), rng_range(r, 180, 245));
    s->sky_horizon = rgb(rng_range(r, 170, 220), rng_range(r, 195, 230), rng_range(r, 225, 255));
  } else if (pick < 0.85) { /* overcast */
    double g = rng_range(r, 150, 215);
    s->sky_top = rgb(g - 8, g - 3, g + 5);
    s->sky_horizon = gray(dmin(250, g + rng_range(r, 10, 35)));
  } else { /* hazy, warm */
    s->sky_top = rgb(rng_range(r, 80, 120), rng_range(r, 110, 140), rng_range(r, 150, 190));
    s->sky_horizon = rgb(rng_range(r, 215, 245), rng_range(r, 175, 210), rng_range(r, 130, 170));
  }
  s->cloud = gray(rng_range(r, 200, 250));
  s->cloudiness = rng_chance(r, 0.6) ? rng_range(r, 0.1, 0.6) : 0;
}

Rgb synth_sky_gradient(const Scene *s, int y) {
  double t = s->cy > 1 ? clampd((y + 0.5) / s->cy, 0, 1) : 1.0;
  return rgb_mix(s->sky_top, s->sky_horizon, pow(t, 0.7));
}

Rgb synth_sky_clouds(const Scene *s, Rgb gradient, int x, int y) {
  if (s->cloudiness <= 0) return gradient;
  double n = fbm2(s->key + 55u, x * 5.0 / s->w, y * 14.0 / s->w);
  return rgb_mix(gradient, s->cloud, clampd((n - (1 - s->cloudiness)) * 3, 0, 1) * 0.85);
}

