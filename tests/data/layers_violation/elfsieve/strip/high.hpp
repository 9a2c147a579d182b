// The higher layer the violation reaches.
#pragma once
