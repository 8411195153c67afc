# Writes a bash completion script for one program from its own --help, so the
# completion never drifts from the options it accepts.
#   cmake -DPROGRAM=path/to/attnscope -DNAME=attnscope -DOUT=file -P gen_completion.cmake
# A program whose --help lists "Commands:" (attnscope-cli) gets the commands
# as its first word and then each command's options, from `PROGRAM CMD --help`.
#
# What is read from a help text: every --option it names; and for an option
# written as `--opt a|b|c` whose alternatives are all lowercase words (not
# placeholders such as `h|mean` or `W.npy|W.csv`), those words as its values.
# Anything else completes file names, which is what the values and the
# positional arguments of both programs are.

function(help_of out)
  execute_process(COMMAND ${PROGRAM} ${ARGN} --help OUTPUT_VARIABLE text RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${PROGRAM} ${ARGN} --help failed (${rc})")
  endif()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# The options of one help text, space-separated, --help always among them;
# and bash `case` arms (`--opt) values='a b c' ;;`), indented by `indent`, for
# those with values.
function(parse_help text indent opts_out arms_out)
  string(REGEX MATCHALL "--[a-z]([a-z0-9-]*[a-z0-9])?" found "${text}")
  list(APPEND found --help)
  list(REMOVE_DUPLICATES found)
  list(SORT found)
  string(REPLACE ";" " " opts "${found}")
  set(arms "")
  string(REGEX MATCHALL "--[a-z][a-z0-9-]*[ =][a-zA-Z0-9.,_-]+(\\|[a-zA-Z0-9.,_-]+)+" lists "${text}")
  foreach(item IN LISTS lists)
    string(REGEX MATCH "^(--[a-z0-9-]+)[ =](.*)$" _ "${item}")
    set(option "${CMAKE_MATCH_1}")
    string(REPLACE "|" ";" words "${CMAKE_MATCH_2}")
    set(plain TRUE)
    foreach(w IN LISTS words)
      if(NOT w MATCHES "^[a-z][a-z0-9-]+$")
        set(plain FALSE)
      endif()
    endforeach()
    if(plain AND NOT arms MATCHES "${option}\\)")
      string(REPLACE ";" " " words "${words}")
      string(APPEND arms "${option}) values='${words}' ;;\n")
    endif()
  endforeach()
  set(${opts_out} "${opts}" PARENT_SCOPE)
  string(REGEX REPLACE "(^|\n)--" "\\1${indent}--" arms "${arms}")
  set(${arms_out} "${arms}" PARENT_SCOPE)
endfunction()

string(MAKE_C_IDENTIFIER "_${NAME}" fn)
help_of(top)
parse_help("${top}" "    " top_opts top_arms)
set(script "# bash completion for ${NAME}: generated from `${NAME} --help` at build time
# by packaging/gen_completion.cmake (edit the program's help, not this file).
${fn}() {
  local cur prev words cword split
  _init_completion -s || return
  local opts='' values=''
")

string(REGEX MATCH "\nCommands:\n(([ ]+[a-z][^\n]*\n)+)" _ "${top}")
if(CMAKE_MATCH_1)
  string(REGEX MATCHALL "\n  [a-z][a-z0-9-]*" commands "\n${CMAKE_MATCH_1}")
  string(REPLACE "\n  " "" commands "${commands}")
  string(REPLACE ";" " " command_words "${commands}")
  string(APPEND script "  if ((cword == 1)); then
    COMPREPLY=($(compgen -W '${command_words} ${top_opts}' -- \"$cur\"))
    return
  fi
  case \${words[1]} in
")
  foreach(cmd IN LISTS commands)
    help_of(sub ${cmd})
    parse_help("${sub}" "        " sub_opts sub_arms)
    string(APPEND script "    ${cmd})
      opts='${sub_opts}'
      case $prev in
${sub_arms}      esac
      ;;
")
  endforeach()
  string(APPEND script "    *) return ;;
  esac
")
else()
  string(APPEND script "  opts='${top_opts}'
  case $prev in
${top_arms}  esac
")
endif()

string(APPEND script [=[
  if [[ -n $values ]]; then
    COMPREPLY=($(compgen -W "$values" -- "$cur"))
  elif [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    _filedir
  fi
}
]=])
string(APPEND script "complete -F ${fn} ${NAME}\n")
file(WRITE ${OUT} "${script}")
