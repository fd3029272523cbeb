# Rare-event charts: qicharts2 qic(chart = "g") and qic(chart = "t").
# Hand-picked edge cases first, then random series. Writes ../qic_rare_qicharts2.json.
source("qic_lib.R")  # packages, the case runner (run_case) and its JSON helpers
set.seed(3600)

# ---- G charts: opportunities between events --------------------------------
run_case("g_textbook", "g", c(12, 4, 31, 7, 0, 18, 22, 3, 9, 45, 14, 2, 27, 6, 11, 38, 1, 16, 8, 25))
run_case("g_one_point", "g", 7)
run_case("g_one_zero", "g", 0)
run_case("g_two_points", "g", c(3, 40))
run_case("g_three_points", "g", c(5, 0, 12))
run_case("g_all_zero", "g", rep(0, 12))
run_case("g_mostly_zero", "g", c(0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 1, 0, 0, 9, 0))
run_case("g_constant", "g", rep(6, 15))
run_case("g_ties_on_median", "g", c(5, 5, 5, 2, 8, 5, 5, 1, 9, 5, 5, 5, 3, 5, 7, 5))
run_case("g_even_median", "g", c(1, 2, 3, 4, 10, 20, 30, 40))
run_case("g_missing", "g", c(14, NA, 3, 22, 9, NA, 0, 17, 31, 5, 12, NA, 8, 26))
run_case("g_missing_first_last", "g", c(NA, 4, 19, 7, 33, 2, 11, NA))
run_case("g_very_long_gap", "g", c(rgeom(20, 1 / 15), 400))
run_case("g_long_gap_middle", "g", c(rgeom(12, 1 / 10), 250, rgeom(12, 1 / 10)))
run_case("g_huge_values", "g", round(rgeom(25, 1 / 5000)))
y <- c(rgeom(20, 1 / 8), rgeom(20, 1 / 40))  # an improvement: gaps get longer
run_case("g_shift_after_improvement", "g", y)
run_case("g_shift_after_improvement_part", "g", y, part = 20)
run_case("g_shift_after_improvement_freeze", "g", y, freeze = 20)
run_case("g_two_parts", "g", c(rgeom(10, .2), rgeom(10, .05), rgeom(10, .02)), part = c(10, 20))
run_case("g_part_of_one", "g", c(rgeom(12, .1), 60), part = 12)
run_case("g_part_all_missing", "g", c(rgeom(10, .1), NA, NA, NA), part = 10)
run_case("g_freeze_short", "g", rgeom(18, .1), freeze = 3)
run_case("g_freeze_one", "g", rgeom(10, .1), freeze = 1)
run_case("g_freeze_longer_than_series", "g", rgeom(10, .1), freeze = 30)
run_case("g_long_run", "g", c(rgeom(8, .1), rep(40, 9), rgeom(8, .1)))
run_case("g_few_crossings", "g", c(rep(2, 10), rep(30, 10)))
run_case("g_fractional", "g", c(2.5, 7.25, 0.5, 13, 4.75, 9, 1.5, 20.5, 3, 6))
run_case("g_negative", "g", c(3, -1, 4, 8, 2))  # qicharts2 accepts it; reports.spc refuses

# ---- T charts: time between events ------------------------------------------
run_case("t_textbook", "t", c(12, 4, 31, 7, 1, 18, 22, 3, 9, 45, 14, 2, 27, 6, 11, 38, 1, 16, 8, 25))
run_case("t_one_point", "t", 7)
run_case("t_two_points", "t", c(3, 40))
run_case("t_three_points", "t", c(5, 1, 12))
run_case("t_constant", "t", rep(6, 15))
run_case("t_ties", "t", c(5, 5, 5, 2, 8, 5, 5, 1, 9, 5, 5, 5, 3, 5, 7, 5))
run_case("t_all_ones", "t", rep(1, 10))
run_case("t_missing", "t", c(14, NA, 3, 22, 9, NA, 1, 17, 31, 5, 12, NA, 8, 26))
run_case("t_missing_first_last", "t", c(NA, 4, 19, 7, 33, 2, 11, NA))
run_case("t_fraction_of_day", "t", round(rexp(24, 1 / 0.8), 3))
run_case("t_hours", "t", round(rexp(30, 1 / 40), 1))
run_case("t_tight_positive_lcl", "t", round(rnorm(20, 30, 1.5), 1))
run_case("t_very_long_gap", "t", c(ceiling(rexp(20, 1 / 15)), 900))
run_case("t_very_short_gap", "t", c(round(rnorm(20, 60, 4)), 0.01))
run_case("t_long_gap_middle", "t", c(ceiling(rexp(12, 1 / 10)), 400, ceiling(rexp(12, 1 / 10))))
run_case("t_big_moving_range", "t", c(ceiling(rexp(15, 1 / 10)), 3000, ceiling(rexp(15, 1 / 10))))
run_case("t_big_moving_range_unscreened", "t", c(ceiling(rexp(15, 1 / 10)), 3000, ceiling(rexp(15, 1 / 10))), screened = FALSE)
run_case("t_huge_values", "t", round(rexp(25, 1 / 5e5)) + 1)
y <- c(ceiling(rexp(20, 1 / 8)), ceiling(rexp(20, 1 / 60)))  # an improvement
run_case("t_shift_after_improvement", "t", y)
run_case("t_shift_after_improvement_part", "t", y, part = 20)
run_case("t_shift_after_improvement_freeze", "t", y, freeze = 20)
run_case("t_shift_after_improvement_unscreened", "t", y, screened = FALSE)
run_case("t_two_parts", "t", c(ceiling(rexp(10, .2)), ceiling(rexp(10, .05)), ceiling(rexp(10, .02))), part = c(10, 20))
run_case("t_part_of_one", "t", c(ceiling(rexp(12, .1)), 60), part = 12)
run_case("t_part_all_missing", "t", c(ceiling(rexp(10, .1)), NA, NA, NA), part = 10)
run_case("t_freeze_short", "t", ceiling(rexp(18, .1)), freeze = 3)
run_case("t_freeze_one", "t", ceiling(rexp(10, .1)), freeze = 1)
run_case("t_freeze_two_with_missing", "t", c(4, NA, 9, 12, 3, 20, 7), freeze = 3)
run_case("t_freeze_longer_than_series", "t", ceiling(rexp(10, .1)), freeze = 30)
run_case("t_long_run", "t", c(ceiling(rexp(8, .1)), rep(40, 9), ceiling(rexp(8, .1))))
run_case("t_few_crossings", "t", c(rep(2, 10), rep(30, 10)))
run_case("t_missing_breaks_moving_ranges", "t", c(3, NA, 5, NA, 8, NA, 2, NA, 30, 4, 6))
run_case("t_zero", "t", c(3, 0, 4, 8, 2))          # qicharts2 stops
run_case("t_zero_in_second_part", "t", c(3, 5, 4, 8, 2, 0, 6), part = 5)  # qicharts2 stops
run_case("t_negative", "t", c(3, -2, 4, 8, 2))      # qicharts2 stops

# ---- random -------------------------------------------------------------------
for (i in 1:160) {
  chart <- if (i %% 2) "g" else "t"
  m <- sample(c(2:12, sample(13:80, 6)), 1)
  p <- runif(1, .005, .4)
  y <- if (chart == "g") rgeom(m, p) else {
    if (i %% 3) ceiling(rexp(m, p)) else round(rexp(m, p), sample(1:3, 1)) + 0.001
  }
  if (m > 8 && runif(1) < .3) {  # a change part-way through
    k <- sample(3:(m - 3), 1); f <- exp(rnorm(1, 0, 1))
    y[k:m] <- if (chart == "g") round(y[k:m] * f) else y[k:m] * f
  }
  if (runif(1) < .25) y[sample(m, sample(1:max(1, m %/% 5), 1))] <- NA
  if (chart == "t" & all(is.na(y))) y[1] <- 1
  part <- NULL; freeze <- NULL
  u <- runif(1)
  if (u < .25 && m >= 6) part <- sort(sample(2:(m - 1), sample(1:2, 1)))
  else if (u < .45 && m >= 4) freeze <- sample(2:(m - 1), 1)
  screened <- !(chart == "t" && runif(1) < .25)
  run_case(sprintf("rand_%03d_%s", i, chart), chart, y, part = part, freeze = freeze,
           screened = screened)
}

out <- list(generator = "qicharts2::qic chart = 'g' and 't' (0.8.1 computation subset, data as return.data = TRUE)",
            r_version = R.version.string, qic.screenedmr_default_after_library = TRUE,
            cases = cases, skipped = skipped)
writeLines(toJSON(out, auto_unbox = TRUE, na = "null", null = "null", json_verbatim = TRUE),
           "../qic_rare_qicharts2.json")
