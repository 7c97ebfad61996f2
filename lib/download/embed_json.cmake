# Turns a JSON data file into a C++ source defining `const char* const <VAR>` (run at build time).
file(READ "${INPUT}" content)
file(WRITE "${OUTPUT}" "// Generated from ${INPUT}; do not edit.\nnamespace goinstall {\nextern const char* const ${VAR};\nconst char* const ${VAR} = R\"goinstall_json(${content})goinstall_json\";\n}\n")
