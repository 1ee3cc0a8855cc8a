-- echo: one call (prelude.lua).
return echo(ARGV)
