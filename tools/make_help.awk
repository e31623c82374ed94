# `make help`: the targets with a `## description`, grouped (start here / test / deploy / internals).
# Variables from the Makefile: start, test, deploy (space-separated target names, in display order) and colour
# (1 on a terminal, 0 in a pipe or a file: no escape codes there). Descriptions are printed whole.
BEGIN {
  FS = ":.*## "
  ngroups = split("start test deploy internals", group, " ")
  title["start"] = "Start here (the local stack)"
  title["test"] = "Test (make test runs what CI runs)"
  title["deploy"] = "Deploy"
  title["internals"] = "Internals"
  n["start"] = split(start, members_start, " ")
  n["test"] = split(test, members_test, " ")
  n["deploy"] = split(deploy, members_deploy, " ")
  for (i = 1; i <= n["start"]; i++) home[members_start[i]] = "start"
  for (i = 1; i <= n["test"]; i++) home[members_test[i]] = "test"
  for (i = 1; i <= n["deploy"]; i++) home[members_deploy[i]] = "deploy"
}
/^[a-zA-Z_-]+:.*## / {
  desc[$1] = $2
  if (!($1 in home)) { internals[++n["internals"]] = $1 }
}
function show(name) {
  if (!(name in desc)) return
  if (colour) printf "  \033[36m%-16s\033[0m %s\n", name, desc[name]
  else printf "  %-16s %s\n", name, desc[name]
}
END {
  for (g = 1; g <= ngroups; g++) {
    key = group[g]
    if (n[key] == 0) continue
    if (colour) printf "\n\033[1m%s\033[0m\n", title[key]
    else printf "\n%s\n", title[key]
    for (i = 1; i <= n[key]; i++) {
      if (key == "start") show(members_start[i])
      else if (key == "test") show(members_test[i])
      else if (key == "deploy") show(members_deploy[i])
      else show(internals[i])
    }
  }
  print ""
  print "Variables: EMULATOR (moto|ministack|localstack), EMULATOR_PORT, STRIPE_PORT, RUN_DIR, EVENT, ORDER, CARD, N"
}
