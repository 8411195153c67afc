# Writes a help2man include file: STATIC's text, then a COMMANDS section with
# every command's own --help (the commands read from PROGRAM's "Commands:"
# list), so attnscope-cli's man page documents each command and never drifts.
#   cmake -DPROGRAM=path/to/attnscope-cli -DSTATIC=file.h2m -DOUT=file -P gen_man_commands.cmake

function(help_of out)
  execute_process(COMMAND ${PROGRAM} ${ARGN} --help OUTPUT_VARIABLE text RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${PROGRAM} ${ARGN} --help failed (${rc})")
  endif()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# Help text as roff, shown as written (.nf): backslashes and hyphens escaped
# (so options copy as plain ASCII '-'), control characters at line starts
# neutralised.
function(roff_verbatim text out)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REPLACE "-" "\\-" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  set(${out} ".nf\n${text}.fi\n" PARENT_SCOPE)
endfunction()

help_of(top)
string(REGEX MATCH "\nCommands:\n(([ ]+[a-z][^\n]*\n)+)" _ "${top}")
if(NOT CMAKE_MATCH_1)
  message(FATAL_ERROR "${PROGRAM} --help lists no Commands:")
endif()
string(REGEX MATCHALL "\n  [a-z][a-z0-9-]*" commands "\n${CMAKE_MATCH_1}")
string(REPLACE "\n  " "" commands "${commands}")

file(READ ${STATIC} page)
string(APPEND page "\n[COMMANDS]\n")
get_filename_component(name ${PROGRAM} NAME)
foreach(cmd IN LISTS commands)
  help_of(sub ${cmd})
  roff_verbatim("${sub}" body)
  string(APPEND page ".SS \"${name} ${cmd}\"\n${body}")
endforeach()
file(WRITE ${OUT} "${page}")
