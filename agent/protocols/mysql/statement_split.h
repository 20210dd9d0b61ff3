// Splits a COM_QUERY text that holds several statements (CLIENT_MULTI_STATEMENTS,
// "SELECT 1; UPDATE t ...") into its statements, so each result the server
// returns (SERVER_MORE_RESULTS_EXISTS) is reported under its own statement.
// Splits on ';' outside quotes ('..', "..", `..`) and comments (-- , #, /* */);
// parts are trimmed. The parts are what MariaDB answers one by one: an empty
// part with text after it is a statement (the server answers it with a syntax
// error and stops: "SELECT 1;;SELECT 2"), and so is a part holding only a
// comment (answered with an OK, or an error if text follows); empty parts at
// the end are dropped (the server ignores "SELECT 1; ;"'s). Never fails: text
// without a top-level ';' is one statement. Views point into `sql`.
#pragma once

#include <string_view>
#include <vector>

namespace waitscope::protocols::mysql {

std::vector<std::string_view> SplitStatements(std::string_view sql);

}  // namespace waitscope::protocols::mysql
